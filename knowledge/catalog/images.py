"""Images that cannot be pulled: the fix depends on *why* (``pull_error``), not on the symptom ImagePullBackOff.

A tag that does not exist goes back to the newest tag that did; a registry that refuses us needs a pull
secret; Docker Hub's rate limit needs authenticated pulls or a mirror; ``imagePullPolicy: Never`` needs the
image on the node. Credentials never appear in a command: they are read from the operator's environment.
"""

from __future__ import annotations

import re

from knowledge.catalog import kubectl as k
from knowledge.catalog.actions import Plan, action
from knowledge.catalog.context import Context
from knowledge.catalog.history import current_image, previous_image, same_image_before, split_image

_REAL_DNS = re.compile(r"no such host|server misbehaving|lookup \S+ on \S+|Temporary failure in name resolution", re.I)
_DETAILS: list[tuple[str, re.Pattern[str]]] = [
    ("platform", re.compile(r"no match for platform", re.I)),
    ("unauthorized", re.compile(r"\b40[13]\b|unauthorized|failed to authorize|no basic auth credentials", re.I)),
    ("not_found", re.compile(r"manifest unknown|: not found\b|repository does not exist", re.I)),
]
CLOUD_REGISTRY = re.compile(r"\.dkr\.ecr\.|\.azurecr\.io$|(?:^|\.)gcr\.io$|-docker\.pkg\.dev$")
"""Registries that authenticate the node's cloud identity rather than a pull secret."""


def _pull_error(ctx: Context) -> str:
    """The rule's ``pull_error``, re-read from the kubelet's full message when it said dns/network/unknown:
    containerd words every failure as "failed to resolve reference", even a 401 or a missing tag."""
    named = ctx.text("pull_error") or "unknown"
    if named not in ("dns", "network", "unknown"):
        return named
    messages = [e.message for e in ctx.signals.events if e.reason in ("Failed", "ErrImagePull", "BackOff")]
    text = "\n".join([*messages, *(c.message for c in ctx.signals.containers)])
    if named == "dns" and _REAL_DNS.search(text):
        return named
    return next((kind for kind, pattern in _DETAILS if pattern.search(text)), named)


def secret_name(registry: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", registry.lower()).strip("-")[:50] + "-pull"


@action(
    "fix_image_reference", ("image_pull",), "medium", 180, "Point the container at an image that exists", container=True
)
def fix_image_reference(ctx: Context) -> Plan:
    image, previous, error = current_image(ctx), previous_image(ctx), _pull_error(ctx)
    fit = {"not_found": 0.95, "invalid_name": 0.95, "platform": 0.85, "unknown": 0.5}.get(error, 0.15)
    params = ctx.base_params() | {"image": image or None, "pull_error": error, "suggested_image": previous or None}
    steps = [
        f"The image {image or '?'} has no variant for this node's CPU architecture: build it multi-arch, or pin "
        "the workload to matching nodes (nodeSelector kubernetes.io/arch)."
        if error == "platform"
        else f"The image {image or '?'} cannot be found as written: check the repository path and tag "
        "(a typo, a tag never pushed or since deleted, or a build that failed before pushing)."
    ]
    if previous:
        steps.append(f"Go back to {previous}, the image of the previous revision, until the new tag exists.")
        commands, extra = k.template_change(ctx, [k.set_image(ctx, previous)])
        title = f"Set {ctx.container_name} image back to {split_image(previous).short}"
    elif same_image_before(ctx):
        fit *= 0.8
        steps.append(
            "The previous revision ran this same image, so a rollback pulls the same missing tag: it was "
            "removed upstream. Pin an existing tag, or mirror the image into a registry you control."
        )
        change, extra = k.edit(ctx)
        commands = [k.container_jsonpath(ctx, "image"), *change]
        title = f"Pin {ctx.container_name} to an existing tag (tag removed upstream)"
    elif ctx.workload.rollout:
        fit *= 0.7
        steps.append("No earlier image of this repository is recorded: undo the rollout, or set the right tag.")
        commands, extra = [k.rollout_undo(ctx), *k.rollout_status(ctx)], []
        title = f"Fix {ctx.container_name} image tag (no previous image recorded)"
    else:
        fit *= 0.5
        steps.append("No earlier image is recorded: set the right tag in the manifest.")
        change, extra = k.edit(ctx)
        commands = [k.container_jsonpath(ctx, "image"), *change]
        title = f"Fix {ctx.container_name} image tag (no previous image recorded)"
    return Plan(
        title=title,
        fit=fit,
        params=params,
        steps=extra + steps,
        commands=commands,
        rollback=k.template_undo(ctx, [k.set_image(ctx, image)] if image else []),
    )


@action("attach_image_pull_secret", ("image_pull",), "medium", 300, "Give the pod credentials for the registry")
def attach_image_pull_secret(ctx: Context) -> Plan:
    ref, error = split_image(current_image(ctx)), _pull_error(ctx)
    secret = secret_name(ref.registry)
    fit = {"unauthorized": 0.95, "not_found": 0.4, "rate_limited": 0.6, "unknown": 0.3}.get(error, 0.05)
    cloud = bool(CLOUD_REGISTRY.search(ref.registry))
    server = "https://index.docker.io/v1/" if ref.registry == "docker.io" else ref.registry
    body = k.pod_spec_body(ctx, {"imagePullSecrets": [{"name": secret}]})
    undo = k.pod_spec_body(ctx, {"imagePullSecrets": [{"name": secret, "$patch": "delete"}]})
    change, extra = k.template_change(ctx, [k.patch(ctx, body)])
    commands = [
        ctx.kubectl(
            "create",
            "secret",
            "docker-registry",
            secret,
            f"--docker-server={server}",
            '--docker-username="$REGISTRY_USER"',
            '--docker-password="$REGISTRY_TOKEN"',
        ),
        *change,
    ]
    return Plan(
        title=f"Let {ctx.workload.ref} pull from {ref.registry} (node identity or pull secret)"
        if cloud
        else f"Add pull secret {secret} for {ref.registry}",
        fit=fit,
        params=ctx.base_params() | {"registry": ref.registry, "secret": secret, "pull_error": error},
        steps=extra
        + [
            f"The registry {ref.registry} refuses anonymous or stale credentials: create a docker-registry secret "
            "with a read-only token (REGISTRY_USER/REGISTRY_TOKEN from your vault, never pasted in chat).",
            f"Reference it from {ctx.workload.label}'s pod template (or from service account "
            f"{ctx.signals.service_account or 'default'} to cover every workload using it).",
            "If the pod already has a pull secret, it may have expired: rotate it instead of adding one.",
            *(
                [
                    f"{ref.registry} is a cloud registry: usually the node's cloud identity (node IAM role, managed "
                    "identity, node service account) lacks pull permission on the repository; grant it there."
                ]
                if cloud
                else []
            ),
        ],
        commands=commands,
        rollback=[*k.template_undo(ctx, [k.patch(ctx, undo)]), ctx.kubectl("delete", "secret", secret)],
    )


@action("use_registry_mirror", ("image_pull",), "medium", 240, "Pull through a mirror to avoid rate limits")
def use_registry_mirror(ctx: Context) -> Plan:
    image, error = current_image(ctx), _pull_error(ctx)
    ref = split_image(image)
    hub = ref.registry == "docker.io"
    mirrored = f"mirror.gcr.io/{ref.repository}:{ref.tag}" if hub and not ref.tag.startswith("sha256:") else ""
    fit = (0.9 if hub else 0.5) if error == "rate_limited" else 0.0
    change, extra = k.template_change(ctx, [k.set_image(ctx, mirrored)]) if mirrored else ([], [])
    return Plan(
        title=f"Pull {ref.short} through a registry mirror" + (" (rate limited)" if error == "rate_limited" else ""),
        fit=fit,
        params=ctx.base_params() | {"image": image or None, "mirror_image": mirrored or None, "pull_error": error},
        steps=extra
        + [
            f"{ref.registry} is rate-limiting pulls from this cluster's egress IP.",
            f"Use {mirrored} (a public Docker Hub mirror) or your own pull-through cache."
            if mirrored
            else "Configure a pull-through cache for this registry on the nodes (containerd hosts.toml).",
            "Authenticated pulls (attach_image_pull_secret) also raise the limit.",
        ],
        commands=change or [k.container_jsonpath(ctx, "image")],
        rollback=k.template_undo(ctx, [k.set_image(ctx, image)] if image and mirrored else []),
    )


@action(
    "allow_image_pull",
    ("image_pull",),
    "medium",
    180,
    "Let the kubelet pull an image it is told never to pull",
    container=True,
)
def allow_image_pull(ctx: Context) -> Plan:
    image = current_image(ctx)
    policy = (ctx.container.image_pull_policy if ctx.container else "") or "Never"
    change, extra = k.template_change(ctx, [k.patch_container(ctx, {"imagePullPolicy": "IfNotPresent"})])
    node = ctx.node or "the node"
    return Plan(
        title=f"Set {ctx.container_name} imagePullPolicy to IfNotPresent",
        fit=0.9 if _pull_error(ctx) == "never_pull" else 0.0,
        params=ctx.base_params()
        | {"image": image or None, "current_policy": policy, "new_policy": "IfNotPresent", "node": ctx.node or None},
        steps=extra
        + [
            f"imagePullPolicy {policy} forbids pulling {image or 'the image'} and it is not present on {node}.",
            "Either let the kubelet pull it (IfNotPresent), or load the image onto the node first "
            "(kind load docker-image, minikube image load, or ctr -n k8s.io images import on the node).",
        ],
        commands=change,
        rollback=k.template_undo(ctx, [k.patch_container(ctx, {"imagePullPolicy": policy})]),
    )


_NETWORK_HINTS = {
    "tls": "The node does not trust the registry's certificate: install its CA on the nodes "
    "(containerd certs.d/<registry>/hosts.toml) rather than disabling TLS.",
    "dns": "The node cannot resolve the registry: check the node's resolver and the registry's DNS name.",
    "network": "The node cannot reach the registry: check egress firewall rules, proxies and NAT.",
}


@action("check_registry_access", ("image_pull",), "low", 180, "Test the node's access to the registry")
def check_registry_access(ctx: Context) -> Plan:
    ref, error = split_image(current_image(ctx)), _pull_error(ctx)
    node = ctx.node
    commands = k.describe_pod(ctx)
    if node:
        commands.append(f"kubectl debug node/{node} -it --image=busybox:1.36 -- nslookup {k.q(ref.registry)}")
    return Plan(
        title=f"Check access from {node or 'the node'} to {ref.registry}",
        fit=0.85 if error in _NETWORK_HINTS else 0.5 if error == "unknown" else 0.2,
        params=ctx.base_params() | {"registry": ref.registry, "node": node or None, "pull_error": error},
        steps=[
            "Read the exact pull error in the pod's events.",
            _NETWORK_HINTS.get(error, "Reproduce the pull from the node to see the registry's own error."),
        ],
        commands=commands,
        rollback=["Delete the node-debugger pod that kubectl debug leaves behind (kubectl get pods)."],
        unattended=False,
    )
