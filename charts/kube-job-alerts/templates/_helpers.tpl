{{/* The release's name, or the chart's inside it: "kube-job-alerts" for `helm install kube-job-alerts ...`. */}}
{{- define "kja.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kja.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selectors are immutable: name and instance only, as in deploy/. */}}
{{- define "kja.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kja.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* deploy/'s labels, with Helm as the manager, plus the chart. */}}
{{- define "kja.labels" -}}
{{ include "kja.selectorLabels" . }}
app.kubernetes.io/component: controller
app.kubernetes.io/part-of: kube-job-alerts
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{- define "kja.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kja.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name: the ServiceAccount to use when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kja.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the webhook: yours, or the chart's when slack.webhook.url is set. Empty in dry run without one. */}}
{{- define "kja.webhookSecret" -}}
{{- if .Values.slack.webhook.existingSecret -}}
{{- .Values.slack.webhook.existingSecret -}}
{{- else if .Values.slack.webhook.url -}}
{{- include "kja.fullname" . -}}
{{- else if not .Values.dryRun -}}
{{- fail "slack.webhook: set existingSecret (a Secret you created, holding the URL under slack.webhook.key) or url (the chart creates the Secret), or set dryRun: true" -}}
{{- end -}}
{{- end -}}

{{/* "own", "all", or "list": which RBAC the watched namespaces need. */}}
{{- define "kja.scope" -}}
{{- if eq (len .Values.watchNamespaces) 0 -}}own
{{- else if has "*" .Values.watchNamespaces -}}all
{{- else -}}list
{{- end -}}
{{- end -}}

{{- define "kja.leaseName" -}}
{{- default (include "kja.fullname" .) .Values.leaderElection.leaseName -}}
{{- end -}}

{{/* The rules of deploy/role.yaml (files/role.yaml is its copy, made by `npm run manifests`): one source of truth. */}}
{{- define "kja.rules" -}}
{{- (.Files.Get "files/role.yaml" | fromYaml).rules | toYaml -}}
{{- end -}}
