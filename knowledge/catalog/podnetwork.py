"""Pod networking that never came up: the node's CNI plugin, not the application, is what to look at.

The checks are read-only and scoped to the pod's node: the CNI agent pod there, its logs, and the node's
address budget. The fix depends on why the plugin fails, so the steps name the usual one for each reason.
"""

from __future__ import annotations

from knowledge.catalog.actions import Plan, action, read_only
from knowledge.catalog.context import Context

_FIX = {
    "ip_exhaustion": [
        "The plugin has no free IP address for new pods on this node: the node (or its subnet) is out of addresses.",
        "Free or add addresses: on AWS VPC CNI enable prefix delegation (ENABLE_PREFIX_DELEGATION=true) or use "
        "larger subnets / instance types; elsewhere widen the IP pool (IPPool, podCIDR) or lower max pods per node.",
        "Meanwhile, cordon the node so new pods land where addresses are left.",
    ],
    "cni_credentials": [
        "The plugin's own credentials for the API server are refused: this is the CNI agent's token, not the "
        "workload's RBAC.",
        "Restart the CNI agent pod on this node so it refreshes its kubeconfig/token; upgrade the plugin if its "
        "token refresh is known to be broken.",
    ],
}


@action(
    "check_cni_on_node",
    ("network",),
    "low",
    180,
    "Check the node's CNI plugin that cannot set up pod networking (read-only)",
    unattended=True,
)
def check_cni_on_node(ctx: Context) -> Plan:
    plugin, node, problem = ctx.text("cni_plugin"), ctx.node, ctx.text("cni_problem")
    where = f"--field-selector=spec.nodeName={node}" if node else ""
    commands = [
        " ".join(part for part in ("kubectl get pods -A -o wide", where) if part),
        f"kubectl describe node {node}" if node else "kubectl get nodes -o wide",
        ctx.kubectl("get", "events", f"--field-selector=involvedObject.name={ctx.pod},reason=FailedCreatePodSandBox"),
    ]
    agent = f"the {plugin} agent pod" if plugin else "the CNI agent pod (calico-node, cilium, aws-node, ...)"
    steps = [
        f"Find {agent} on node {node or 'of the pod'} (kube-system or the plugin's namespace) and read its logs.",
        *_FIX.get(problem, ["Fix what the plugin's logs name; other pods on the same node will fail the same way."]),
    ]
    return Plan(
        title=f"Check {plugin or 'the CNI plugin'} on node {node or '?'}",
        fit=0.9 if ctx.flag("sandbox") else 0.0,
        params=ctx.base_params() | {"node": node or None, "cni_plugin": plugin or None, "cni_problem": problem or None},
        steps=steps,
        commands=commands,
        rollback=read_only(ctx),
    )
