{{/* Names and labels. */}}
{{- define "office-booker.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "office-booker.fullname" -}}
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

{{/* The five services; with "gateway" these are the application processes. */}}
{{- define "office-booker.services" -}}
identity offices booking notify audit
{{- end }}
{{- define "office-booker.components" -}}
gateway {{ include "office-booker.services" . }}
{{- end }}

{{/* Common labels; call with (dict "root" $ "component" "booking"). */}}
{{- define "office-booker.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: office-booker
{{ include "office-booker.selectorLabels" . }}
{{- end }}

{{- define "office-booker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "office-booker.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The start command of each process. It must equal obcommon/procs.py (COMMANDS and MIGRATE):
tests/deploy/test_commands.py checks the rendered chart and the Dockerfiles against it.
*/}}
{{- define "office-booker.command" -}}
{{- if eq . "gateway" -}}
["python", "-m", "gateway"]
{{- else if eq . "migrate" -}}
["python", "-m", "obcommon.migrate"]
{{- else -}}
["python", "-m", "obcommon.launch", {{ . | quote }}]
{{- end -}}
{{- end }}

{{/* Image of a component: its repository and its own tag, else image.tag, else appVersion.
Call with (dict "root" $ "component" "booking"). */}}
{{- define "office-booker.image" -}}
{{- $c := index .root.Values .component -}}
{{- $tag := $c.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" $c.image.repository $tag }}
{{- end }}

{{/* Port the process listens on: GATEWAY_PORT for the gateway, SERVICE_PORT for a service. */}}
{{- define "office-booker.port" -}}
{{- if eq . "gateway" }}8080{{ else }}8000{{ end }}
{{- end }}

{{/* Secret reference: the dev credentials in dev mode, else the existing Secret from values.
AMQP_URI is per process (its own RabbitMQ user): pass "component" with secret "amqpUri". */}}
{{- define "office-booker.secretRef" -}}
{{- $ref := index .root.Values.secrets .secret -}}
{{- if eq .secret "amqpUri" }}{{ $ref = index $ref .component }}{{ end -}}
secretKeyRef:
{{- if .root.Values.dev.enabled }}
  name: {{ include "office-booker.fullname" .root }}-dev-credentials
  key: {{ .secret | kebabcase }}{{ if eq .secret "amqpUri" }}-{{ .component }}{{ end }}
{{- else }}
  name: {{ $ref.name }}
  key: {{ $ref.key }}
{{- end }}
{{- if eq .secret "selftestKey" }}
  optional: true    # SELFTEST_KEY is optional (SPEC §8: unset, the endpoint answers 404)
{{- end }}
{{- end }}

{{- define "office-booker.selftestConfigured" -}}
{{- if or .Values.dev.enabled .Values.secrets.selftestKey.name }}true{{ end }}
{{- end }}

{{/* Environment of an application container; call with (dict "root" $ "component" "booking"). */}}
{{- define "office-booker.env" -}}
{{- $root := .root -}}
- name: OFFICE_BOOKER_CONFIG
  value: /etc/office-booker/config.yaml
- name: LOG_LEVEL
  value: {{ $root.Values.logLevel | quote }}
{{- if $root.Values.readOnly }}
- name: OB_READ_ONLY
  value: "true"
{{- end }}
- name: DATABASE_URL
  valueFrom:
    {{- include "office-booker.secretRef" (dict "root" $root "secret" "databaseUrl") | nindent 4 }}
{{- if ne .component "migrate" }}
- name: AMQP_URI
  valueFrom:
    {{- include "office-booker.secretRef" (dict "root" $root "secret" "amqpUri" "component" .component) | nindent 4 }}
- name: SECRET_KEY
  valueFrom:
    {{- include "office-booker.secretRef" (dict "root" $root "secret" "secretKey") | nindent 4 }}
{{- end }}
{{- if eq .component "gateway" }}
- name: GATEWAY_PORT
  value: {{ include "office-booker.port" .component | quote }}
- name: HSTS_MAX_AGE
  value: {{ $root.Values.hstsMaxAge | int | quote }}
- name: GATEWAY_PROCESSES
  value: {{ $root.Values.gateway.processes | int | quote }}
{{- if include "office-booker.selftestConfigured" $root }}
- name: SELFTEST_KEY
  valueFrom:
    {{- include "office-booker.secretRef" (dict "root" $root "secret" "selftestKey") | nindent 4 }}
{{- end }}
{{- with $root.Values.sso.clientSecret }}
{{- if .name }}
- name: OIDC_CLIENT_SECRET
  valueFrom:
    secretKeyRef: {name: {{ .name }}, key: {{ .key }}}
{{- end }}
{{- end }}
{{- with $root.Values.sso.scimToken }}
{{- if .name }}
- name: SCIM_TOKEN
  valueFrom:
    secretKeyRef: {name: {{ .name }}, key: {{ .key }}}
{{- end }}
{{- end }}
{{- else if ne .component "migrate" }}
- name: SERVICE_PORT
  value: {{ include "office-booker.port" .component | quote }}
{{- end }}
{{- if and (eq .component "notify") $root.Values.smtp.host }}
- name: SMTP_HOST
  value: {{ $root.Values.smtp.host | quote }}
- name: SMTP_PORT
  value: {{ $root.Values.smtp.port | quote }}
- name: SMTP_STARTTLS
  value: {{ $root.Values.smtp.starttls | quote }}
- name: SMTP_CONNECTIONS
  value: {{ $root.Values.smtp.connections | quote }}
{{- with $root.Values.smtp.credentials }}
{{- if .name }}
- name: SMTP_USERNAME
  valueFrom:
    secretKeyRef: {name: {{ .name }}, key: {{ .usernameKey }}}
- name: SMTP_PASSWORD
  valueFrom:
    secretKeyRef: {name: {{ .name }}, key: {{ .passwordKey }}}
{{- end }}
{{- end }}
{{- end }}
{{- if $root.Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $root.Values.otel.endpoint | quote }}
{{- range $k, $v := $root.Values.otel.extraEnv }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end }}
{{- range $k, $v := $root.Values.extraEnv }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end }}

{{/* Pod-level security: non-root, RuntimeDefault seccomp, no service account token. */}}
{{- define "office-booker.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "office-booker.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}

{{/* Volumes of an application pod: the config file and a writable /tmp. */}}
{{- define "office-booker.volumes" -}}
- name: config
  configMap:
    name: {{ .name }}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{- define "office-booker.volumeMounts" -}}
- name: config
  mountPath: /etc/office-booker
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* Placement shared by every application pod. */}}
{{- define "office-booker.placement" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
