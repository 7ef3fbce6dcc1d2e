"""Corpus: config_error mechanisms (missing Secret/ConfigMap keys, bad config files, file permissions, images)."""

from __future__ import annotations

from .common import (
    Deployment,
    Snap,
    case,
    configmap,
    container,
    crashloop,
    finish_pod,
    http_probe,
    mount,
    render,
    res,
    secret_env,
    timeline,
)


def _mk(s: Snap, app: str, c: dict, *, created: float, pool: str = "workers", replicas: int = 2,
        volumes: list | None = None, extra_spec: dict | None = None) -> Deployment:
    d = Deployment(s, app, replicas=replicas, labels={"app": app}, revision=s.rng.randint(2, 60))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels, node=s.new_node(pool),
               created=created, containers=[c], volumes=volumes, extra_spec=extra_spec)
    s.ev_scheduled()
    return d


def _config_error(s: Snap, c: str, err: str, *, count: int, first: float, last: float = -6) -> None:
    s.status(c, state=s.waiting("CreateContainerConfigError", err), image_ok=False)
    s.event("Pulled", f'Container image "{s.spec_of(c)["image"]}" already present on machine', type="Normal",
            count=count, first=first, last=last, field=c)
    s.event("Failed", f"Error: {err}", count=count, first=first, last=last, field=c)


@case("corpus")
def config_secret_not_found_events() -> Snap:
    s = Snap("config-secret-not-found-events", cluster="payments-eks-ore", captured="2025-01-14T22:40:02Z",
             platform="eks", region="us-west-2", version="1.31", ns="psp-gateway", events_api="events")
    d = _mk(s, "webhook-ingest", container(
        "ingest", "305112987746.dkr.ecr.us-west-2.amazonaws.com/psp/webhook-ingest:1.12.0", ports=[(8080, "http")],
        env={"STRIPE_WEBHOOK_SECRET": secret_env("stripe-webhook", "signing-secret"), "LOG_LEVEL": "info"},
        resources=res("100m", "128Mi", "500m", "256Mi")), created=-610, pool="apps")
    _config_error(s, "ingest", 'secret "stripe-webhook" not found', count=51, first=-605)
    finish_pod(s)
    d.emit(ready=2, updated=1)
    s.labels("config_error",
             why="CreateContainerConfigError: the container's env takes STRIPE_WEBHOOK_SECRET from Secret "
                 "stripe-webhook, which does not exist in psp-gateway (the external-secrets sync for it failed), so "
                 "the kubelet cannot build the container config.",
             remediation="create/sync Secret psp-gateway/stripe-webhook with key signing-secret (check the "
                         "ExternalSecret status); the kubelet retries automatically")
    return s


@case("corpus")
def config_configmap_volume_missing() -> Snap:
    s = Snap("config-configmap-volume-missing", cluster="backoffice-gke", captured="2023-09-06T09:18:30Z",
             platform="gke", version="1.27", ns="backoffice")
    d = _mk(s, "ledger-ui", container(
        "ui", "eu.gcr.io/acme-bo/ledger-ui:4.4.0", ports=[(8080, "http")], resources=res("50m", "64Mi", "200m", "128Mi"),
        mounts=[mount("app-config", "/usr/share/nginx/html/config", ro=True)]), created=-1500, pool="default-pool",
        volumes=[{"configMap": {"defaultMode": 420, "name": "ledger-ui-config-v2"}, "name": "app-config"}])
    s.status("ui", state=s.waiting("ContainerCreating"), image_ok=False)
    s.event("FailedMount", 'MountVolume.SetUp failed for volume "app-config" : configmap "ledger-ui-config-v2" not found',
            count=23, first=-1497, last=-35)
    s.event("FailedMount", "Unable to attach or mount volumes: unmounted volumes=[app-config], unattached volumes=[]: "
            "timed out waiting for the condition", count=11, first=-1380, last=-60)
    finish_pod(s)
    d.emit(ready=2, updated=1)
    configmap(s, "ledger-ui-config")
    s.labels("config_error", also=["volume_mount"],
             why="The pod references ConfigMap ledger-ui-config-v2 as a volume, but only ledger-ui-config exists, so "
                 "MountVolume.SetUp fails with 'configmap not found' and the pod sits in ContainerCreating. The "
                 "missing object is configuration; volume_mount describes the same symptom.",
             remediation="create ConfigMap ledger-ui-config-v2 (it was left out of the release) or point the volume "
                         "back at ledger-ui-config")
    return s


@case("corpus")
def config_tls_key_permission_denied() -> Snap:
    s = Snap("config-tls-key-permission-denied", cluster="edge-aks", captured="2024-07-08T16:14:45Z", platform="aks",
             version="1.29", ns="edge-auth")
    runs = timeline(s, 5, lambda i: s.rng.uniform(0.2, 0.5))
    d = _mk(s, "token-broker", container(
        "broker", "acmeedge.azurecr.io/auth/token-broker:2.6.1", ports=[(8443, "https")],
        args=["--tls-cert=/etc/tls/tls.crt", "--tls-key=/etc/tls/tls.key"], resources=res("50m", "64Mi", "250m", "128Mi"),
        security={"runAsNonRoot": True, "runAsUser": 10001, "allowPrivilegeEscalation": False},
        mounts=[mount("tls", "/etc/tls", ro=True)]), created=runs[0][0] - 6, pool="edgepool",
        volumes=[{"name": "tls", "secret": {"defaultMode": 256, "secretName": "token-broker-tls"}}])
    crashloop(s, "broker", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=1)
    a, b = runs[-1]
    s.log("broker", render(s, "zap", [
        (a + 0.01, "info", "token-broker 2.6.1 starting"),
        (a + 0.02, "fatal", "failed to load TLS key pair: open /etc/tls/tls.key: permission denied"),
    ], caller=("cmd/broker/main.go:77",)), previous=True)
    s.labels("config_error",
             why="'permission denied' here is a file permission, not Kubernetes RBAC: the TLS Secret is mounted with "
                 "defaultMode 0400 (owned by root) and the container runs as UID 10001 without an fsGroup, so it "
                 "cannot read tls.key and exits at start.",
             remediation="mount the secret with defaultMode 0440 and set securityContext.fsGroup: 10001 (or "
                         "defaultMode 0444 for the cert/key volume)")
    return s


@case("corpus")
def config_nginx_unknown_directive() -> Snap:
    s = Snap("config-nginx-unknown-directive", cluster="gov-kubeadm", captured="2023-02-09T11:30:18Z",
             platform="kubeadm", version="1.25", ns="portal")
    runs = timeline(s, 6, lambda i: s.rng.uniform(0.1, 0.3))
    d = _mk(s, "api-gateway", container(
        "nginx", "docker.io/library/nginx:1.23.3", ports=[(8080, "http")], resources=res("50m", "64Mi", "500m", "128Mi"),
        mounts=[mount("conf", "/etc/nginx/conf.d", ro=True)]), created=runs[0][0] - 4, pool="k8s-app",
        volumes=[{"configMap": {"defaultMode": 420, "name": "api-gateway-nginx"}, "name": "conf"}])
    crashloop(s, "nginx", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=2)
    configmap(s, "api-gateway-nginx", created=-1900)
    a, b = runs[-1]
    hms = s.dt(a).strftime("%Y/%m/%d %H:%M:%S")
    s.log("nginx", "\n".join([
        "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration",
        "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
        "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
        "10-listen-on-ipv6-by-default.sh: info: can not modify /etc/nginx/conf.d/default.conf (read-only file system?)",
        "/docker-entrypoint.sh: Configuration complete; ready for start up",
        f'{hms} [emerg] 1#1: unknown directive "proxy_hide_headers" in /etc/nginx/conf.d/api.conf:23',
        'nginx: [emerg] unknown directive "proxy_hide_headers" in /etc/nginx/conf.d/api.conf:23']), previous=True)
    s.labels("config_error",
             why="nginx refuses to start ([emerg] unknown directive \"proxy_hide_headers\" in api.conf:23 - a typo for "
                 "proxy_hide_header) after the api-gateway-nginx ConfigMap was edited 30 minutes ago. The "
                 "'read-only file system' line is the normal entrypoint notice for a ConfigMap mount.",
             remediation="fix the directive in ConfigMap api-gateway-nginx (proxy_hide_header) and validate with "
                         "nginx -t before rolling out")
    return s


@case("corpus")
def config_spring_placeholder() -> Snap:
    s = Snap("config-spring-placeholder", cluster="bank-ocp-prod", captured="2024-05-15T06:48:59Z",
             platform="openshift", version="1.28", ns="core-ledger")
    runs = timeline(s, 4, lambda i: s.rng.uniform(9, 12))
    d = _mk(s, "posting-service", container(
        "posting", "quay.io/acme-bank/posting-service:19.0.2", ports=[(8080, "http")],
        env={"SPRING_PROFILES_ACTIVE": "prod", "LEDGER_DB_USER": secret_env("ledger-db", "username"),
             "LEDGER_DB_PASSWORD": secret_env("ledger-db", "password")},
        resources=res("500m", "1Gi", "2", "1Gi"), readiness=http_probe("/actuator/health/readiness", 8080, delay=20)),
        created=runs[0][0] - 5, pool="worker", replicas=3)
    crashloop(s, "posting", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=3, updated=1)
    a, b = runs[-1]
    s.log("posting", render(s, "spring", [
        (a + 2, "INFO", "Starting PostingServiceApplication v19.0.2 using Java 17.0.11 with PID 1"),
        (a + 2.5, "INFO", 'The following 1 profile is active: "prod"'),
        (a + 8.8, "WARN", "Exception encountered during context initialization - cancelling refresh attempt: "
                          "org.springframework.beans.factory.BeanCreationException: Error creating bean with name "
                          "'dataSource': Could not resolve placeholder 'LEDGER_DB_URL' in value \"${LEDGER_DB_URL}\""),
        (a + 9.1, "ERROR", "Application run failed"),
    ], logger="o.s.boot.SpringApplication") + "\n" + "\n".join([
        "java.lang.IllegalArgumentException: Could not resolve placeholder 'LEDGER_DB_URL' in value \"${LEDGER_DB_URL}\"",
        "\tat org.springframework.util.PropertyPlaceholderHelper.parseStringValue(PropertyPlaceholderHelper.java:180)",
        "\tat org.springframework.core.env.AbstractPropertyResolver.resolveRequiredPlaceholders(AbstractPropertyResolver.java:239)",
        "\tat com.acme.bank.posting.PostingServiceApplication.main(PostingServiceApplication.java:14)"]), previous=True)
    s.labels("config_error",
             why="Spring cannot resolve ${LEDGER_DB_URL}: the Deployment provides LEDGER_DB_USER and _PASSWORD but "
                 "the URL variable was dropped from the manifest, so the dataSource bean fails and the app exits 1.",
             remediation="add LEDGER_DB_URL to the posting container env (from the ledger-db Secret or ConfigMap) "
                         "and roll out again")
    return s


@case("corpus")
def config_runasnonroot_root_image() -> Snap:
    s = Snap("config-runasnonroot-root-image", cluster="platform-gke-restricted", captured="2024-10-01T13:22:10Z",
             platform="gke", version="1.30", ns="tools")
    d = _mk(s, "docs-site", container(
        "web", "europe-docker.pkg.dev/acme-platform/web/docs-site:2024.10.01", ports=[(80, "http")],
        resources=res("20m", "32Mi", "100m", "64Mi"), security={"allowPrivilegeEscalation": False,
                                                                 "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True}),
        created=-900, pool="default-pool", replicas=2)
    err = (f'container has runAsNonRoot and image will run as root (pod: "{s.pod_name}_{s.ns}({s.pod_uid})", '
           'container: web)')
    _config_error(s, "web", err, count=74, first=-896)
    finish_pod(s)
    d.emit(ready=2, updated=1)
    s.labels("config_error",
             why="The pod security context demands runAsNonRoot but the new docs-site image has no USER (runs as "
                 "root) and no runAsUser is set, so the kubelet refuses to create the container "
                 "(CreateContainerConfigError).",
             remediation="set securityContext.runAsUser (e.g. 101 for nginx-unprivileged) or add a non-root USER to "
                         "the image and listen on a port >1024")
    return s


@case("corpus")
def config_external_403_revoked_key() -> Snap:
    s = Snap("config-external-403-revoked-key", cluster="crm-eks", captured="2024-03-04T08:05:11Z", platform="eks", region="eu-west-1",
             version="1.28", ns="crm")
    runs = timeline(s, 5, lambda i: s.rng.uniform(1.5, 2.5))
    d = _mk(s, "campaign-mailer", container(
        "mailer", "208842201337.dkr.ecr.eu-west-1.amazonaws.com/crm/campaign-mailer:3.2.0",
        command=["python", "-m", "mailer"], env={"MAIL_API_KEY": secret_env("mail-provider", "api-key")},
        resources=res("50m", "128Mi", "250m", "256Mi")), created=runs[0][0] - 5, pool="apps")
    crashloop(s, "mailer", runs, exit_code=2)
    finish_pod(s)
    d.emit(ready=0)
    a, b = runs[-1]
    s.log("mailer", render(s, "flask", [
        (a + 0.4, "INFO", "campaign-mailer 3.2.0 starting, provider=https://api.mailprovider.example/v3"),
        (a + 1.2, "ERROR", 'startup check failed: POST /v3/mail/send (sandbox) -> 403 Forbidden: {"errors":[{"message":'
                           '"The provided authorization grant is invalid, expired, or revoked","field":null}]}'),
        (a + 1.3, "CRITICAL", "mail provider rejected API key SG.****************cZ4 - refusing to start"),
    ], logger="mailer.startup"), previous=True)
    s.labels("config_error", also=["crash_loop"],
             why="The 403 Forbidden comes from the external mail provider's API, not from the Kubernetes API server: "
                 "the API key stored in Secret mail-provider was revoked during a key rotation, and the mailer refuses "
                 "to start without a working key. The fix is the credential in the Secret, not RBAC.",
             remediation="put the new provider API key into Secret crm/mail-provider (key api-key) and restart the "
                         "Deployment")
    return s


@case("corpus")
def config_exec_not_found_starterror() -> Snap:
    s = Snap("config-exec-not-found-starterror", cluster="ml-eks-serving", captured="2024-06-03T12:01:38Z",
             platform="eks", region="us-east-1", version="1.29", ns="serving")
    runs = timeline(s, 5, lambda i: 0.0)
    d = _mk(s, "embedding-api", container(
        "api", "392001447651.dkr.ecr.us-east-1.amazonaws.com/ml/embedding-api:2.0.0-slim",
        command=["gunicorn", "-k", "uvicorn.workers.UvicornWorker", "embed.app:app"], ports=[(8000, "http")],
        resources=res("1", "2Gi", "2", "4Gi")), created=runs[0][0] - 5, pool="cpu-serving")
    msg = ('failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: '
           'unable to start container process: exec: "gunicorn": executable file not found in $PATH: unknown')
    st = crashloop(s, "api", runs, exit_code=128, reason="StartError", message=msg)
    st["lastState"]["terminated"]["startedAt"] = "1970-01-01T00:00:00Z"
    s.events = [e for e in s.events if e["reason"] != "Started"]
    s.event("Failed", f"Error: {msg}", count=len(runs), first=runs[0][0], last=runs[-1][0], field="api")
    finish_pod(s)
    d.emit(ready=3, updated=1)
    s.labels("config_error", also=["crash_loop"],
             why="The container never runs: StartError exit 128, 'exec: \"gunicorn\": executable file not found in "
                 "$PATH'. The new -slim image dropped gunicorn but the Deployment command still calls it - a command/"
                 "image mismatch in the pod spec rather than an application crash.",
             remediation="change the command to the entrypoint the slim image ships (uvicorn embed.app:app) or "
                         "install gunicorn in the image")
    return s


@case("corpus")
def config_yaml_parse_go() -> Snap:
    s = Snap("config-yaml-parse-go", cluster="iot-k3s-plant7", captured="2025-02-18T04:36:22Z", platform="k3s",
             version="1.31", ns="gateway")
    runs = timeline(s, 6, lambda i: s.rng.uniform(0.05, 0.2))
    d = _mk(s, "modbus-bridge", container(
        "bridge", "ghcr.io/acme-iot/modbus-bridge:1.3.4", args=["--config=/etc/bridge/config.yaml"],
        resources=res("20m", "32Mi", "200m", "64Mi"), mounts=[mount("config", "/etc/bridge", ro=True)]),
        created=runs[0][0] - 3, pool="plant7", replicas=1,
        volumes=[{"configMap": {"defaultMode": 420, "name": "modbus-bridge-config"}, "name": "config"}])
    crashloop(s, "bridge", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=0)
    configmap(s, "modbus-bridge-config", data={"config.yaml": "broker: mqtt://mosquitto.gateway.svc:1883\npoll_interval: 2s\n"
                                                              "devices:\n  - name: press-04\n    address: 10.77.4.21:502\n"
                                                              "    registers: [40001, 40002]\n  - name: press-05\n"
                                                              "   address: 10.77.4.22:502\n    registers: [40001, 40002]\n"},
              created=-2400)
    a, b = runs[-1]
    s.log("bridge", render(s, "go", [(a + 0.01, "INFO", "modbus-bridge v1.3.4"),
                                      (a + 0.02, "INFO", "error loading config /etc/bridge/config.yaml: yaml: line 8: "
                                                         "did not find expected key")]), previous=True)
    s.labels("config_error",
             why="The bridge exits 1 immediately because its config file from ConfigMap modbus-bridge-config is invalid "
                 "YAML (line 8: the address of press-05 is indented with 3 spaces), as the data in the ConfigMap shows.",
             remediation="fix the indentation in ConfigMap modbus-bridge-config and restart the pod (validate with "
                         "yamllint in CI)")
    return s
