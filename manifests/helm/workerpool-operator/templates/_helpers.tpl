{{/*
Names are fixed where the operator or the kustomize install fixes them: the Lease is always
`workerpool-operator` (the operator's own name for it), and with the default release name every
object has the name it has in manifests/base, so that the two installs render the same objects.
*/}}

{{- define "workerpool-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels on every object: those of the kustomize install, plus Helm's own. */}}
{{- define "workerpool-operator.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/part-of: workerpool-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The operator pods; also the Deployment's selector, which cannot change after install. */}}
{{- define "workerpool-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "workerpool-operator.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The operator's rules, read from manifests/base/cluster-role.yaml: one home for them. */}}
{{- define "workerpool-operator.rules" -}}
{{- (.Files.Get "files/cluster-role.yaml" | fromYaml).rules | toYaml -}}
{{- end -}}

{{- define "workerpool-operator.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) -}}
{{- fail "leaderElection.enabled: must be true when replicaCount is more than 1, or two operators would both reconcile" -}}
{{- end -}}
{{- end -}}
