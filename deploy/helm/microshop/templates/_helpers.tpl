{{/*
microshop.fullname names the release's objects: the release name, with "-microshop" unless the
release name already says microshop.
*/}}
{{- define "microshop.fullname" -}}
{{- if contains "microshop" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-microshop" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* microshop.serviceNames are the shop's services, the gateway first. */}}
{{- define "microshop.serviceNames" -}}
gateway users catalog orders payments
{{- end -}}

{{/* microshop.backendNames are the services behind the gateway, each with its own database. */}}
{{- define "microshop.backendNames" -}}
users catalog orders payments
{{- end -}}

{{/* microshop.port is a service's port, the same as in compose and the images. */}}
{{- define "microshop.port" -}}
{{- get (dict "gateway" 8080 "users" 8081 "orders" 8082 "payments" 8083 "catalog" 8084) . -}}
{{- end -}}

{{- define "microshop.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: microshop
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: microshop
{{- end -}}

{{/* microshop.selectorLabels: (dict "root" $ "component" "orders") */}}
{{- define "microshop.selectorLabels" -}}
app.kubernetes.io/name: microshop
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "microshop.componentLabels" -}}
{{ include "microshop.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* microshop.image is a service's image: [registry/]repository/service:tag, or @digest. */}}
{{- define "microshop.image" -}}
{{- $image := .root.Values.image -}}
{{- $own := (get .root.Values.services .service).image | default dict -}}
{{- $repository := printf "%s/%s" $image.repository .service -}}
{{- if $image.registry }}{{ $repository = printf "%s/%s" (trimSuffix "/" $image.registry) $repository }}{{ end -}}
{{- if $own.digest -}}
{{- printf "%s@%s" $repository $own.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository (toString ($own.tag | default $image.tag)) -}}
{{- end -}}
{{- end -}}

{{/* microshop.natsUrl is where the services find NATS: the in-chart cluster, or nats.url. */}}
{{- define "microshop.natsUrl" -}}
{{- if .Values.nats.enabled -}}
{{- printf "nats://%s-nats:4222" (include "microshop.fullname" .) -}}
{{- else -}}
{{- .Values.nats.url -}}
{{- end -}}
{{- end -}}

{{- define "microshop.natsStreamReplicas" -}}
{{- if not (kindIs "invalid" .Values.config.natsStreamReplicas) -}}
{{- .Values.config.natsStreamReplicas -}}
{{- else if and .Values.nats.enabled (ge (int .Values.nats.replicas) 3) -}}
3
{{- else -}}
1
{{- end -}}
{{- end -}}

{{- define "microshop.postgresSecretName" -}}
{{- .Values.postgres.existingSecret | default (printf "%s-postgres-dev" (include "microshop.fullname" .)) -}}
{{- end -}}

{{- define "microshop.jwtSecretName" -}}
{{- .Values.jwt.existingSecret | default (printf "%s-jwt-dev" (include "microshop.fullname" .)) -}}
{{- end -}}

{{- define "microshop.adminSecretName" -}}
{{- .Values.admin.existingSecret | default (printf "%s-admin-dev" (include "microshop.fullname" .)) -}}
{{- end -}}

{{/*
microshop.problems lists what keeps the values from a working, safe install, one line each. The
schema checks each value alone; these are the rules across values.
*/}}
{{- define "microshop.problems" -}}
{{- $v := .Values -}}
{{- $problems := list -}}
{{- range $name := splitList " " (include "microshop.backendNames" .) -}}
{{- $db := (get $v.services $name).database -}}
{{- if $db.existingSecret -}}
{{- if and $db.urlKey $db.passwordKey -}}
{{- $problems = append $problems (printf "services.%s.database: set urlKey or passwordKey, not both" $name) -}}
{{- else if not (or $db.urlKey $db.passwordKey) -}}
{{- $problems = append $problems (printf "services.%s.database: say which key of %s holds the URL (urlKey) or the password (passwordKey)" $name $db.existingSecret) -}}
{{- else if and $db.passwordKey (not $db.host) (not $v.postgres.enabled) -}}
{{- $problems = append $problems (printf "services.%s.database.host: required with passwordKey (the database server)" $name) -}}
{{- end -}}
{{- else if not $v.postgres.enabled -}}
{{- $problems = append $problems (printf "services.%s.database.existingSecret: no database for %s (a Secret with its DATABASE_URL or password), nor postgres.enabled" $name $name) -}}
{{- end -}}
{{- end -}}
{{- if and $v.postgres.enabled (not $v.postgres.existingSecret) (not $v.dev) -}}
{{- $problems = append $problems "postgres.existingSecret: the in-chart Postgres needs its passwords from a Secret (postgres-password and <service>-password)" -}}
{{- end -}}
{{- if and (not $v.jwt.existingSecret) (not $v.dev) -}}
{{- $problems = append $problems "jwt.existingSecret: the token signing keys must come from a Secret (a JWK Set under jwt.key)" -}}
{{- end -}}
{{- if and $v.admin.enabled (not $v.admin.existingSecret) (not $v.dev) -}}
{{- $problems = append $problems "admin.existingSecret: the admin account must come from a Secret (or set admin.enabled=false)" -}}
{{- end -}}
{{- if and (not $v.nats.enabled) (not $v.nats.url) -}}
{{- $problems = append $problems "nats.url: no NATS (the URL of your NATS JetStream cluster), nor nats.enabled" -}}
{{- end -}}
{{- $replicas := int (include "microshop.natsStreamReplicas" .) -}}
{{- if and $v.nats.enabled (gt $replicas (int $v.nats.replicas)) -}}
{{- $problems = append $problems (printf "config.natsStreamReplicas: %d is more than the in-chart cluster's %d servers" $replicas (int $v.nats.replicas)) -}}
{{- end -}}
{{- if $v.nats.enabled -}}
{{- /* Each of the shop's streams (orders, catalog, payments, dead letters) reserves its 1 GiB. */}}
{{- $size := $v.nats.maxFileStore | toString -}}
{{- $factor := get (dict "K" 0 "M" 1 "G" 1024 "T" 1048576 "" 0) (regexFind "[KMGT]" $size) | int -}}
{{- $mebibytes := mul (regexFind "^[0-9]+" $size | int) $factor -}}
{{- if lt (int $mebibytes) 4096 -}}
{{- $problems = append $problems (printf "nats.maxFileStore: %s is less than the 4Gi the shop's four streams reserve (1 GiB each); JetStream would refuse to create them" $size) -}}
{{- end -}}
{{- end -}}
{{- range $name := splitList " " (include "microshop.serviceNames" .) -}}
{{- $service := get $v.services $name -}}
{{- $pod := include "microshop.podSettings" (dict "root" $ "service" $name) | fromYaml -}}
{{- $needed := add (int $pod.preStopSleepSeconds) (div (add (int $v.config.shutdownTimeoutMs) 999) 1000) -}}
{{- if le (int $pod.terminationGracePeriodSeconds) $needed -}}
{{- $problems = append $problems (printf "services.%s: terminationGracePeriodSeconds %d must be more than preStopSleepSeconds + config.shutdownTimeoutMs (%d s), or the service is killed mid-drain" $name (int $pod.terminationGracePeriodSeconds) $needed) -}}
{{- end -}}
{{- if and $service.autoscaling.enabled (gt (int $service.autoscaling.minReplicas) (int $service.autoscaling.maxReplicas)) -}}
{{- $problems = append $problems (printf "services.%s.autoscaling: minReplicas is more than maxReplicas" $name) -}}
{{- end -}}
{{- end -}}
{{- if and $v.ingress.enabled (not $v.ingress.hosts) -}}
{{- $problems = append $problems "ingress.hosts: the Ingress needs at least one host" -}}
{{- end -}}
{{- if and $v.httpRoute.enabled (not $v.httpRoute.parentRefs) -}}
{{- $problems = append $problems "httpRoute.parentRefs: the HTTPRoute needs the Gateway it attaches to" -}}
{{- end -}}
{{- range $problems }}
  - {{ . }}
{{- end -}}
{{- end -}}

{{/* microshop.validate stops the render with every problem at once. */}}
{{- define "microshop.validate" -}}
{{- $problems := include "microshop.problems" . -}}
{{- if $problems -}}
{{- fail (printf "\n\nmicroshop: these values cannot be installed:%s\n\nSecrets come from Secrets you make (existingSecret): see docs/deploy-kubernetes.md. For a development install with development passwords, set dev=true." $problems) -}}
{{- end -}}
{{- end -}}

{{/* microshop.podSettings merges a service's own pod settings over podDefaults. */}}
{{- define "microshop.podSettings" -}}
{{- $service := get .root.Values.services .service -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.podDefaults) ($service.pod | default dict)) -}}
{{- end -}}

{{/* microshop.configData is a service's plain settings, as YAML: (dict "root" $ "service" "orders") */}}
{{- define "microshop.configData" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $name := .service -}}
{{- $fullname := include "microshop.fullname" $root -}}
{{- $service := get $v.services $name -}}
{{- $users := printf "http://%s-users:8081" $fullname }}
{{- $data := dict
  "HOST" "0.0.0.0"
  "PORT" (include "microshop.port" $name)
  "LOG_LEVEL" $v.config.logLevel
  "SHUTDOWN_TIMEOUT_MS" (toString $v.config.shutdownTimeoutMs)
  "JWT_ISSUER" $v.config.jwtIssuer
  "JWT_AUDIENCE" $v.config.jwtAudience
  "JWKS_URL" (printf "%s/auth/jwks.json" $users) }}
{{- with $v.config.tracing.otlpEndpoint }}
{{- $_ := set $data "OTEL_EXPORTER_OTLP_ENDPOINT" . }}
{{- $_ = set $data "OTEL_TRACES_SAMPLER" "parentbased_traceidratio" }}
{{- $_ = set $data "OTEL_TRACES_SAMPLER_ARG" (toString (divf $v.config.tracing.samplePercent 100)) }}
{{- end }}
{{- if eq $name "gateway" }}
{{- $trust := $service.trustProxy }}
{{- if kindIs "invalid" $trust }}{{ $trust = ternary "1" "" (or $v.ingress.enabled $v.httpRoute.enabled) }}{{ end }}
{{- $_ := set $data "USERS_URL" $users }}
{{- $_ = set $data "CATALOG_URL" (printf "http://%s-catalog:8084" $fullname) }}
{{- $_ = set $data "ORDERS_URL" (printf "http://%s-orders:8082" $fullname) }}
{{- $_ = set $data "PAYMENTS_URL" (printf "http://%s-payments:8083" $fullname) }}
{{- with (toString $trust) }}{{ $_ = set $data "TRUST_PROXY" . }}{{ end }}
{{- with $service.corsOrigins }}{{ $_ = set $data "CORS_ORIGINS" . }}{{ end }}
{{- if not (kindIs "invalid" $service.rateLimitMax) }}{{ $_ = set $data "RATE_LIMIT_MAX" (toString $service.rateLimitMax) }}{{ end }}
{{- if not (kindIs "invalid" $service.authRateLimitMax) }}{{ $_ = set $data "AUTH_RATE_LIMIT_MAX" (toString $service.authRateLimitMax) }}{{ end }}
{{- else }}
{{- /* DATA_DIR is unused with a DATABASE_URL and given signing keys: it points into /tmp. */}}
{{- $_ := set $data "DATA_DIR" "/tmp/microshop" }}
{{- $_ = set $data "DATABASE_POOL_SIZE" (toString $v.config.databasePoolSize) }}
{{- if ne $name "users" }}
{{- $_ = set $data "NATS_URL" (include "microshop.natsUrl" $root) }}
{{- $_ = set $data "NATS_NAMESPACE" $v.config.natsNamespace }}
{{- $_ = set $data "NATS_STREAM_REPLICAS" (include "microshop.natsStreamReplicas" $root) }}
{{- $_ = set $data "NATS_STREAM_MAX_BYTES" (toString (int64 $v.config.natsStreamMaxBytes)) }}
{{- $_ = set $data "NATS_STREAM_MAX_AGE_SECONDS" (toString (int64 $v.config.natsStreamMaxAgeSeconds)) }}
{{- end }}
{{- end }}
{{- if eq $name "users" }}{{ $_ := unset $data "JWKS_URL" }}{{ end }}
{{- if eq $name "orders" }}{{ $_ := set $data "CATALOG_URL" (printf "http://%s-catalog:8084" $fullname) }}{{ end }}
{{- if eq $name "catalog" }}{{ $_ := set $data "SEED_DEMO_DATA" (toString $service.seedDemoData) }}{{ end }}
{{- if and (eq $name "users") $v.jwt.activeKeyId }}{{ $_ := set $data "JWT_ACTIVE_KEY_ID" $v.jwt.activeKeyId }}{{ end }}
{{- /* env adds settings; the chart's own above win over it. */}}
{{- range $key, $value := $service.env }}
{{- if not (hasKey $data $key) }}{{ $_ := set $data $key (toString $value) }}{{ end }}
{{- end }}
{{- toYaml $data -}}
{{- end -}}

{{/* microshop.natsConf is the in-chart NATS servers' configuration. */}}
{{- define "microshop.natsConf" -}}
{{- $fullname := include "microshop.fullname" . -}}
{{- $nats := .Values.nats -}}
{{- $replicas := int $nats.replicas -}}
{{- $headless := printf "%s-nats-headless" $fullname -}}
server_name: $POD_NAME
listen: 0.0.0.0:4222
http: 0.0.0.0:8222
pid_file: /var/run/nats/nats.pid
# Lame duck mode on stop: clients move to the other servers before this one goes.
lame_duck_duration: 30s
lame_duck_grace_period: 10s
jetstream {
  store_dir: /data
  max_file_store: {{ $nats.maxFileStore }}
  max_memory_store: {{ $nats.maxMemoryStore }}
}
{{- if gt $replicas 1 }}
cluster {
  name: {{ $fullname }}
  listen: 0.0.0.0:6222
  routes: [
    {{- range $index := until $replicas }}
    nats://{{ $fullname }}-nats-{{ $index }}.{{ $headless }}.{{ $.Release.Namespace }}.svc:6222
    {{- end }}
  ]
}
{{- end }}
{{- end -}}
