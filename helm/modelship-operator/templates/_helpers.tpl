{{/* Chart name, at most 63 characters (a DNS label). */}}
{{- define "modelship-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of every object of the release; the release name alone when it already contains the chart name. */}}
{{- define "modelship-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels that select the operator pods: never change them, a Deployment's selector is immutable. */}}
{{- define "modelship-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "modelship-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels on every object of the chart. */}}
{{- define "modelship-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "modelship-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: modelship
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "modelship-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "modelship-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* [registry/]repository:tag, from (list registry repository tag); the tag defaults to the chart's appVersion. */}}
{{- define "modelship-operator.imageRef" -}}
{{- $registry := index . 0 | trimSuffix "/" }}
{{- $ref := printf "%s:%s" (index . 1) (index . 2) }}
{{- if $registry }}{{ printf "%s/%s" $registry $ref }}{{ else }}{{ $ref }}{{ end }}
{{- end }}

{{- define "modelship-operator.image" -}}
{{- include "modelship-operator.imageRef" (list .Values.image.registry .Values.image.repository (default .Chart.AppVersion .Values.image.tag)) }}
{{- end }}

{{/* The operator passes it to the pods it creates; same registry, and by default the same tag, as the operator's. */}}
{{- define "modelship-operator.modelServerImage" -}}
{{- $tag := default (default .Chart.AppVersion .Values.image.tag) .Values.modelServerImage.tag }}
{{- include "modelship-operator.imageRef" (list .Values.image.registry .Values.modelServerImage.repository $tag) }}
{{- end }}

{{/* "true" when more than one replica could act at once, or when asked for. */}}
{{- define "modelship-operator.leaderElection" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicas) 1) }}true{{ else }}false{{ end }}
{{- end }}

{{/* The Lease the operator takes; fixed in the operator (ModelshipOperator), so fixed here. */}}
{{- define "modelship-operator.leaseName" -}}
modelship-operator
{{- end }}
