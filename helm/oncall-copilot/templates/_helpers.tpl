{{/* Chart name, shortened to the 63 characters a label value allows. */}}
{{- define "oncall-copilot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name used for every object. */}}
{{- define "oncall-copilot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "oncall-copilot.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "oncall-copilot.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "oncall-copilot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "oncall-copilot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "oncall-copilot.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "oncall-copilot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "oncall-copilot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "oncall-copilot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository@digest when a digest is given, else repository:tag (tag defaults to appVersion). */}}
{{- define "oncall-copilot.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* SQLite cannot be shared by replicas: refuse rather than split the store. */}}
{{- define "oncall-copilot.checkStore" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.secrets.databaseUrlFromSecret) (hasPrefix "sqlite" .Values.config.databaseUrl) }}
{{- fail "replicaCount > 1 needs PostgreSQL: set secrets.databaseUrlFromSecret or a postgresql+psycopg:// config.databaseUrl" }}
{{- end }}
{{- if and .Values.secrets.databaseUrlFromSecret (not .Values.secrets.existingSecret) }}
{{- fail "secrets.databaseUrlFromSecret needs secrets.existingSecret" }}
{{- end }}
{{- end }}
