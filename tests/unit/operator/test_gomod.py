"""The Go module that builds Kubernetes is generated from Kubernetes' own go.mod."""

from __future__ import annotations

import pytest

from tmux_orchestrator.devcluster.gomod import (
    MODULES,
    module_dir,
    render_kubernetes_gomod,
    render_tools_go,
    staging_version,
)
from tmux_orchestrator.devcluster.versions import ETCD_VERSION, KUBERNETES_VERSION

UPSTREAM = """module k8s.io/kubernetes

go 1.26.0

require (
\tk8s.io/api v0.0.0
\tk8s.io/apimachinery v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/apimachinery => ./staging/src/k8s.io/apimachinery
)
"""


@pytest.mark.parametrize(
    ("release", "tag"),
    [("v1.36.3", "v0.36.3"), ("v1.33.13", "v0.33.13")],
    ids=["1.36", "1.33-two-digit-patch"],
)
def test_staging_modules_are_tagged_v0_minor_patch(release: str, tag: str) -> None:
    assert staging_version(release) == tag


@pytest.mark.parametrize("bad", ["1.36.3", "v1.36", "v2.0.0", "v1.36.3-rc.0"])
def test_non_release_versions_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes release version"):
        staging_version(bad)


def test_every_staging_replace_points_at_the_published_tag() -> None:
    rendered = render_kubernetes_gomod(UPSTREAM, "v1.36.3")
    assert "require k8s.io/kubernetes v1.36.3" in rendered
    assert "\tk8s.io/api => k8s.io/api v0.36.3\n" in rendered
    assert "\tk8s.io/apimachinery => k8s.io/apimachinery v0.36.3\n" in rendered
    assert "./staging" not in rendered
    assert "go 1.26.0" in rendered


def test_an_upstream_without_staging_replaces_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"no \./staging replace"):
        render_kubernetes_gomod("module x\n\ngo 1.26\n")


def test_committed_modules_pin_the_declared_versions() -> None:
    kubernetes = (module_dir("kubernetes") / "go.mod").read_text()
    assert f"k8s.io/kubernetes {KUBERNETES_VERSION}" in kubernetes
    assert f"k8s.io/apiserver => k8s.io/apiserver {staging_version(KUBERNETES_VERSION)}" in kubernetes
    assert f"go.etcd.io/etcd/server/v3 {ETCD_VERSION}" in (module_dir("etcd") / "go.mod").read_text()
    for name, (_, binaries) in MODULES.items():
        tools = (module_dir(name) / "tools.go").read_text()
        assert tools == render_tools_go(binaries.values())
        assert (module_dir(name) / "go.sum").stat().st_size > 0
