{{/* Names and labels shared by every template. */}}

{{- define "tmo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's name prefix; suffixes (-operator, -sidecar) keep every name within 63 characters. */}}
{{- define "tmo.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 48 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 48 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 48 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "tmo.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "tmo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tmux-orchestrator
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component (operator or sidecar): immutable in Deployments and DaemonSets. */}}
{{- define "tmo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tmo.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "tmo.componentLabels" -}}
{{ include "tmo.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "tmo.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "tmo.operator.serviceAccountName" -}}
{{- if .Values.operator.serviceAccount.create -}}
{{- default (printf "%s-operator" (include "tmo.fullname" .)) .Values.operator.serviceAccount.name -}}
{{- else -}}
{{- required "operator.serviceAccount.name is required when operator.serviceAccount.create is false" .Values.operator.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tmo.sidecar.serviceAccountName" -}}
{{- if .Values.sidecar.serviceAccount.create -}}
{{- default (printf "%s-sidecar" (include "tmo.fullname" .)) .Values.sidecar.serviceAccount.name -}}
{{- else -}}
{{- required "sidecar.serviceAccount.name is required when sidecar.serviceAccount.create is false" .Values.sidecar.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The username API requests of a ServiceAccount carry. */}}
{{- define "tmo.sidecar.username" -}}
{{- printf "system:serviceaccount:%s:%s" .Release.Namespace (include "tmo.sidecar.serviceAccountName" .) -}}
{{- end -}}

{{/* Where node agents keep their Leases (the kubelet's namespace for the same purpose). */}}
{{- define "tmo.leaseNamespace" -}}kube-node-lease{{- end -}}
