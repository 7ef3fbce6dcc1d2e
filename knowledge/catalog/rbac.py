"""RBAC denials: grant exactly the verb on exactly the resource that was refused, to exactly that account.

A Role + RoleBinding in the namespace where access was denied (which may differ from the pod's), or a
ClusterRole + ClusterRoleBinding when the resource is cluster-scoped or the request was cluster-wide. Grants
are high risk and never unattended; a grant touching RBAC objects, secrets cluster-wide or escalation verbs
is flagged as sensitive. Anonymous users are never granted anything: the pod has lost its token instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.catalog.actions import Plan, action, read_only
from knowledge.catalog.context import Context

CLUSTER_SCOPED = frozenset(
    "nodes namespaces persistentvolumes clusterroles clusterrolebindings customresourcedefinitions storageclasses "
    "priorityclasses csinodes csidrivers volumeattachments ingressclasses runtimeclasses apiservices "
    "mutatingwebhookconfigurations validatingwebhookconfigurations certificatesigningrequests tokenreviews "
    "subjectaccessreviews selfsubjectaccessreviews componentstatuses podsecuritypolicies".split()
)
SENSITIVE_VERBS = frozenset({"escalate", "bind", "impersonate", "*"})
SENSITIVE_RESOURCES = frozenset(
    {"roles", "rolebindings", "clusterroles", "clusterrolebindings", "serviceaccounts/token"}
)


_DENIAL = re.compile(
    r'[Uu]ser "(?P<user>[^"]+)" cannot (?P<verb>\w+) resource "(?P<resource>[\w./-]+)"'
    r'(?: in API group "(?P<group>[\w.-]*)")?(?: in the namespace "(?P<namespace>[\w.-]+)")?'
)


@dataclass(frozen=True, slots=True)
class Grant:
    verb: str
    resource: str  # may carry a subresource: pods/log
    api_group: str
    namespace: str  # where access was denied; "" for cluster scope
    sa_namespace: str
    sa_name: str
    user: str
    resource_name: str = ""

    @property
    def cluster(self) -> bool:
        return not self.namespace

    @property
    def is_service_account(self) -> bool:
        return bool(self.sa_name)

    @property
    def kubectl_resource(self) -> str:
        """``deployments.apps``, ``pods/log``, ``deployments.apps/scale`` as ``kubectl create role`` wants it."""
        base, _, sub = self.resource.partition("/")
        qualified = f"{base}.{self.api_group}" if self.api_group else base
        return f"{qualified}/{sub}" if sub else qualified

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{self.sa_namespace}:{self.sa_name}"

    @property
    def role_name(self) -> str:
        prefix = f"{self.sa_namespace}-" if self.cluster else ""
        raw = f"{prefix}{self.sa_name}-{self.verb}-{self.resource}"
        return re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")[:63].rstrip("-")

    @property
    def sensitive(self) -> bool:
        return (
            self.verb in SENSITIVE_VERBS
            or self.resource in SENSITIVE_RESOURCES
            or (self.resource == "secrets" and (self.cluster or self.verb in ("list", "watch")))
        )


def denial(ctx: Context) -> dict[str, str]:
    """The refusal as facts: the rule's, completed from the API server's own words in the logs when the rule
    could not read them (a Status inside JSON inside a log line escapes every quote)."""
    facts = {key: ctx.text(key) for key in ("service_account", "verb", "resource", "api_group", "namespace")}
    if facts["verb"] and facts["resource"]:
        return facts
    text = re.sub(r'\\+"', '"', "\n".join([ctx.evidence, ctx.log_text]))
    match = _DENIAL.search(text)
    if match:
        found = {
            "service_account": match["user"],
            "verb": match["verb"],
            "resource": match["resource"],
            "api_group": match["group"] or "",
            "namespace": match["namespace"] or "",
        }
        facts = {key: facts[key] or value for key, value in found.items()}
    return facts


def grant(ctx: Context) -> Grant:
    facts = denial(ctx)
    user = facts["service_account"] or ctx.text("user")
    sa_ns, sa_name = ctx.namespace, ""
    if user.startswith("system:serviceaccount:"):
        sa_ns, _, sa_name = user.removeprefix("system:serviceaccount:").partition(":")
    elif user and ":" not in user and "@" not in user:
        sa_name = user
    elif not user:
        sa_name = ctx.signals.service_account or "default"
    resource = facts["resource"]
    base = resource.partition("/")[0]
    cluster_wide = base in CLUSTER_SCOPED or (
        not facts["namespace"] and re.search(r"at the cluster scope|all namespaces", ctx.evidence) is not None
    )
    namespace = "" if cluster_wide else facts["namespace"] or ctx.namespace
    return Grant(
        facts["verb"], resource, facts["api_group"], namespace, sa_ns, sa_name, user, ctx.text("resource_name")
    )


def can_i(g: Grant) -> str:
    base, _, sub = g.resource.partition("/")
    qualified = f"{base}.{g.api_group}" if g.api_group else base
    scope = f"-n {g.namespace}" if g.namespace else "--all-namespaces" if base not in CLUSTER_SCOPED else ""
    extra = f" --subresource={sub}" if sub else ""
    return f"kubectl auth can-i {g.verb} {qualified}{extra} --as={g.subject} {scope}".rstrip()


@action("grant_rbac_role", ("rbac_denied",), "high", 60, "Grant the denied verb on the denied resource, nothing more")
def grant_rbac_role(ctx: Context) -> Plan:
    g = grant(ctx)
    known = bool(g.verb and g.resource and g.is_service_account)
    name, sa = g.role_name, f"{g.sa_namespace}:{g.sa_name}"
    scoped = g.resource_name and g.verb not in ("list", "watch", "create")
    names = f" --resource-name={g.resource_name}" if scoped else ""
    rule = f"--verb={g.verb} --resource={g.kubectl_resource}{names}"
    if g.cluster:
        commands = [
            f"kubectl create clusterrole {name} {rule}",
            f"kubectl create clusterrolebinding {name} --clusterrole={name} --serviceaccount={sa}",
        ]
        rollback = [f"kubectl delete clusterrolebinding {name}", f"kubectl delete clusterrole {name}"]
        kind = "ClusterRole"
    else:
        ns = f"kubectl -n {g.namespace}"
        commands = [
            f"{ns} create role {name} {rule}",
            f"{ns} create rolebinding {name} --role={name} --serviceaccount={sa}",
        ]
        rollback = [f"{ns} delete rolebinding {name}", f"{ns} delete role {name}"]
        kind = "Role"
    where = "cluster-wide" if g.cluster else f"in {g.namespace}"
    steps = [
        f"Service account {sa} was refused '{g.verb}' on {g.kubectl_resource} {where}.",
        f"Create a {kind} allowing only that verb on that resource, bound to that service account only.",
        "Leader election needs get, create and update on leases: grant them together."
        if g.resource == "leases"
        else "Informers need list and watch together: if the next denial names the other verb, add it.",
        f"Commit the {kind} and its binding to the workload's manifests so the next deploy keeps them.",
    ]
    fit = 0.95 if known else 0.0
    if g.namespace and g.namespace != g.sa_namespace:
        steps.insert(
            2,
            f"The account lives in {g.sa_namespace} but acts in {g.namespace}: if it manages many "
            "namespaces, create one ClusterRole and bind it with a RoleBinding in each "
            "(kubectl create rolebinding --clusterrole=...), never a ClusterRoleBinding.",
        )
    if g.sensitive:
        fit *= 0.7
        steps.insert(
            1,
            f"Sensitive: '{g.verb}' on {g.resource} {where} widens what a compromised pod can do; "
            "confirm the application really needs it.",
        )
    if g.sa_name == "default":
        fit *= 0.6
        steps.insert(
            1,
            f"'default' is shared by every pod in {g.sa_namespace} without its own account: prefer a "
            "dedicated service account for this workload.",
        )
    if not g.is_service_account:
        steps = [
            f"The refused identity is {g.user or 'unknown'}, not a service account: do not grant it; check the "
            "pod's token (restore_service_account_token)."
        ]
    return Plan(
        title=f"Grant {g.verb or '?'} on {g.kubectl_resource or '?'} to {g.sa_name or '?'} ({kind})",
        fit=fit,
        params=ctx.base_params()
        | {
            "verb": g.verb or None,
            "resource": g.resource or None,
            "api_group": g.api_group,
            "service_account": sa if g.is_service_account else None,
            "scope": "cluster" if g.cluster else "namespace",
            "role_namespace": g.namespace or None,
            "role_kind": kind,
            "role_name": name,
            "resource_name": g.resource_name or None,
            "sensitive": g.sensitive,
        },
        steps=steps,
        commands=[*commands, can_i(g)] if known else [f"kubectl auth can-i --list --as={g.subject} -n {ctx.namespace}"],
        rollback=rollback,
    )


@action(
    "check_rbac_permissions",
    ("rbac_denied",),
    "low",
    60,
    "List what the service account may do and who binds it (read-only)",
    unattended=True,
)
def check_rbac_permissions(ctx: Context) -> Plan:
    g = grant(ctx)
    ns = g.namespace or ctx.namespace
    commands = [can_i(g)] if g.verb and g.resource else []
    commands += [
        f"kubectl auth can-i --list --as={g.subject} -n {ns}",
        f"kubectl -n {ns} get rolebindings -o wide",
        "kubectl get clusterrolebindings -o wide",
    ]
    return Plan(
        title=f"Check the permissions of service account {g.sa_namespace}:{g.sa_name or '?'}",
        fit=0.8 if not (g.verb and g.resource) else 0.5,
        params=ctx.base_params() | {"service_account": f"{g.sa_namespace}:{g.sa_name}", "namespace_checked": ns},
        steps=[
            "Confirm the denial and list what the account may do: a binding may exist but name the wrong account "
            "or namespace, or a Role may lack only one verb.",
            "Compare with the previous release: a renamed service account loses its bindings.",
        ],
        commands=commands,
        rollback=read_only(ctx),
    )
