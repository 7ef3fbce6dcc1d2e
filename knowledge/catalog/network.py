"""Network and DNS failures: find *where* the path breaks before changing anything.

The host in the error decides the first check: an in-cluster Service (``name.ns.svc...``) is most often a
Service without endpoints; a name that does not resolve points at CoreDNS, or at a NetworkPolicy dropping
port 53; a timeout to a reachable name points at a NetworkPolicy or an egress firewall. Checks run from the
pod's own network namespace (an ephemeral debug container) so they see the same policies as the application.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action, read_only
from knowledge.catalog.context import Context

_TIMEOUT = re.compile(r"timed? ?out|timeout|EAI_AGAIN|server misbehaving|temporary failure", re.I)
_IP = re.compile(r"(?:\d{1,3}\.){3}\d{1,3}")
_ENDPOINT = re.compile(
    r"(?:connect|dial tcp|connecting to|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH)\s+\[?(?P<host>(?:\d{1,3}\.){3}\d{1,3}|"
    r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\]?:(?P<port>\d{2,5})\b"
)
"""Fallback when the rule found no host name: ``connect ETIMEDOUT 10.30.57.76:6379``, ``dial tcp db:5432``."""
_TLDS = frozenset(
    "com net org io dev app cloud co ai info biz me eu us uk de fr nl local internal lan corp example test".split()
)
_NXDOMAIN = re.compile(r"NXDOMAIN|no such host|ENOTFOUND|name or service not known|Name does not resolve", re.I)


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: str
    service: str = ""
    service_namespace: str = ""

    @property
    def in_cluster(self) -> bool:
        return bool(self.service)

    @property
    def ip(self) -> bool:
        return bool(_IP.fullmatch(self.host))


def target(ctx: Context) -> Target:
    host, port = ctx.text("host").rstrip(".").lower(), ctx.text("port")
    if not host and (match := _ENDPOINT.search(ctx.evidence) or _ENDPOINT.search(ctx.log_text)):
        host, port = match["host"].lower(), port or match["port"]
    if _IP.fullmatch(host):
        return Target(host, port)
    labels = host.split(".") if host else []
    if "svc" in labels[1:]:
        index = labels.index("svc", 1)
        namespace = labels[1] if index >= 2 else ctx.namespace
        return Target(host, port, labels[0], namespace)
    if len(labels) == 1:
        return Target(host, port, labels[0], ctx.namespace)
    if host in ("kubernetes.default", "kubernetes"):
        return Target(host, port, "kubernetes", "default")
    if len(labels) == 2 and labels[1] not in _TLDS:
        return Target(host, port, labels[0], labels[1])  # service.namespace short form
    return Target(host, port)


@action(
    "check_service_endpoints",
    ("network",),
    "low",
    60,
    "Check the target Service has ready endpoints (read-only)",
    unattended=True,
)
def check_service_endpoints(ctx: Context) -> Plan:
    t, dns = target(ctx), ctx.flag("dns")
    ns = t.service_namespace or ctx.namespace
    if t.in_cluster:
        missing = dns and bool(_NXDOMAIN.search(ctx.evidence)) and not _TIMEOUT.search(ctx.evidence)
        fit = 0.92 if missing else 0.6 if dns else 0.9  # NXDOMAIN for a Service name: the Service is missing
        commands = [
            f"kubectl -n {ns} get service {t.service} -o wide",
            f"kubectl -n {ns} get endpointslices -l kubernetes.io/service-name={t.service} -o wide",
            f"kubectl -n {ns} describe service {t.service}",
        ]
    elif t.ip:
        fit = 0.55
        commands = ["kubectl get services -A -o wide", "kubectl get pods -A -o wide"]
    else:
        fit = 0.0 if t.host else 0.35
        commands = [ctx.kubectl("get", "services,endpointslices", "-o", "wide")]
    steps = [
        f"Check Service {ns}/{t.service or '?'} exists and has ready endpoints: no endpoints means its pods are "
        "down, not Ready, or its selector matches no pod.",
        f"Check the Service port {t.port} maps to a port the pods listen on (targetPort)."
        if t.port
        else "Check the Service's targetPort is the port the pods listen on.",
    ]
    if dns and t.in_cluster:
        steps.insert(0, f"The name {t.host} does not resolve: a Service of that name may not exist in {ns}.")
    if t.ip:
        steps.insert(
            0,
            f"Find what owns {t.host}: a Service's ClusterIP, or a pod IP that may be gone (the "
            "application should use the Service name, not an address it cached).",
        )
    return Plan(
        title=f"Check endpoints of Service {ns}/{t.service}"
        if t.in_cluster
        else f"Find the Service or pod behind {t.host}"
        if t.ip
        else "Check Services and endpoints",
        fit=fit,
        params=ctx.base_params()
        | {
            "host": t.host or None,
            "port": t.port or None,
            "service": t.service or None,
            "service_namespace": ns if t.in_cluster else None,
        },
        steps=steps,
        commands=commands,
        rollback=read_only(ctx),
    )


@action("check_cluster_dns", ("network",), "low", 120, "Check CoreDNS and resolve the name from the namespace")
def check_cluster_dns(ctx: Context) -> Plan:
    t = target(ctx)
    host = t.host or "kubernetes.default.svc.cluster.local"
    probe = "dns-check"
    return Plan(
        title=f"Check cluster DNS for {host}" if t.host else f"Check cluster DNS from namespace {ctx.namespace}",
        fit=0.9 if ctx.flag("dns") else 0.15,
        params=ctx.base_params() | {"host": host, "debug_pod": probe},
        steps=[
            "Check the CoreDNS pods are running and their logs are free of errors (upstream timeouts, loops).",
            f"Resolve {host} from a throwaway pod in {ctx.namespace}: NXDOMAIN means the name is wrong or the "
            "Service is missing; a timeout means DNS traffic is dropped (CoreDNS overloaded, or a NetworkPolicy "
            "blocking UDP/TCP 53 to kube-system).",
        ],
        commands=[
            "kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide",
            "kubectl -n kube-system logs -l k8s-app=kube-dns --tail=100",
            ctx.kubectl(
                "run", probe, "--rm", "-i", "--restart=Never", "--image=busybox:1.36", "--", "nslookup", k.q(host)
            ),
        ],
        rollback=[ctx.kubectl("delete", "pod", probe, "--ignore-not-found")],
        unattended=False,
    )


@action("review_network_policies", ("network",), "low", 180, "Test the path from the pod and review NetworkPolicies")
def review_network_policies(ctx: Context) -> Plan:
    t, dns = target(ctx), ctx.flag("dns")
    timeout = bool(_TIMEOUT.search(ctx.evidence))
    policy = ctx.text("network_policy")  # a policy that selects the pod and restricts its egress
    fit = (0.6 if timeout else 0.3) if dns else (0.8 if timeout else 0.6) if t.host else 0.3
    if policy:
        fit = 0.95
    commands = [ctx.kubectl("get", "networkpolicy", policy, "-o", "yaml")] if policy else []
    commands.append(ctx.kubectl("get", "networkpolicy", "-o", "wide"))
    if t.service_namespace and t.service_namespace != ctx.namespace:
        commands.append(f"kubectl -n {t.service_namespace} get networkpolicy -o wide")
    if t.host and t.port:
        commands.append(
            ctx.kubectl(
                "debug",
                ctx.pod,
                "-it",
                "--image=nicolaka/netshoot",
                f"--target={ctx.container_name}",
                "--",
                "nc",
                "-zv",
                "-w",
                "3",
                k.q(t.host),
                t.port,
            )
        )
    first_step = (
        [
            f"NetworkPolicy {policy} selects {ctx.pod} and drops every egress flow its rules do not list: add a rule "
            f"for {t.host or 'the dependency'}{':' + t.port if t.port else ''} (port and destination namespace or "
            "CIDR), or narrow its podSelector, then watch the pod become ready."
        ]
        if policy
        else []
    )
    return Plan(
        title=(
            f"Allow {t.host or 'the dependency'} in NetworkPolicy {policy}"
            if policy
            else f"Test the path to {t.host or 'the dependency'} and review NetworkPolicies"
        ),
        fit=fit,
        params=ctx.base_params()
        | {"host": t.host or None, "port": t.port or None, "timeout": timeout, "network_policy": policy or None},
        steps=first_step + [
            f"List the NetworkPolicies of {ctx.namespace}"
            + (f" and {t.service_namespace}" if t.service_namespace not in ("", ctx.namespace) else "")
            + ": a policy selecting the pod drops all egress it does not allow (DNS on port 53 included).",
            "Connect from inside the pod's network namespace: a timeout is a drop (policy, firewall), a refusal "
            "means nothing listens on that port.",
            "Allow the flow with an egress rule for the pod and an ingress rule on the target, or fix the target.",
        ],
        commands=commands,
        rollback=["Nothing changed; the ephemeral debug container goes away when the pod is replaced."],
        unattended=False,
    )


@action("lower_dns_ndots", ("network",), "medium", 180, "Resolve external names without search-domain detours")
def lower_dns_ndots(ctx: Context) -> Plan:
    t = target(ctx)
    external = bool(t.host) and not t.in_cluster
    if not (ctx.flag("dns") and external):
        fit = 0.0
    elif _NXDOMAIN.search(ctx.evidence) and not _TIMEOUT.search(ctx.evidence):
        fit = 0.15  # the name really does not exist: ndots will not help
    else:
        fit = 0.5
    body = {"dnsConfig": {"options": [{"name": "ndots", "value": "2"}]}}
    commands, extra = k.template_change(ctx, [k.patch_pod_spec(ctx, body)])
    return Plan(
        title=f"Set ndots:2 so {t.host or 'external names'} resolves directly",
        fit=fit,
        params=ctx.base_params() | {"host": t.host or None, "ndots": 2},
        steps=extra
        + [
            f"With the default ndots:5, {t.host or 'an external name'} is first tried with every cluster search "
            "domain: five lookups per request, each a chance to time out under load.",
            "ndots:2 sends names with two or more dots straight upstream (or write the host with a trailing dot).",
        ],
        commands=commands,
        rollback=k.template_undo(ctx, [k.patch_pod_spec(ctx, {"dnsConfig": None})]),
    )
