"""Names of the API that users, examples and tests rely on (DESIGN sections 1-3, **contract**)."""

from __future__ import annotations

from typing import Final

GROUP: Final = "orchestrator.tmux.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
PREFIX: Final = f"{GROUP}/"

LABEL_TEAM: Final = f"{PREFIX}team"
LABEL_MEMBER: Final = f"{PREFIX}member"
LABEL_ROLE: Final = f"{PREFIX}role"
LABEL_REVISION: Final = f"{PREFIX}revision"
LABEL_NODE: Final = f"{PREFIX}node"

ANNOTATION_PROMOTE: Final = f"{PREFIX}promote"
ANNOTATION_ABORT: Final = f"{PREFIX}abort"
ANNOTATION_RESTARTED_AT: Final = f"{PREFIX}restartedAt"

PM_ROLE: Final = "pm"
