"""Image references and rollout history: what ran before, so a rollback can name what it goes back to.

``Owner.previous_images`` holds the images of the Deployment's older ReplicaSets, newest revision first, all
containers flattened. The previous image *of this container* is the newest one from the same repository; a
sidecar's image in the list must not be offered as the application's rollback target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.catalog.context import Context

_DIGEST = re.compile(r"@sha256:[0-9a-f]{12,}$")


@dataclass(frozen=True, slots=True)
class ImageRef:
    registry: str
    repository: str
    tag: str

    @property
    def short(self) -> str:
        """``cart:1.4.1`` for titles: the last path segment and the tag."""
        name = self.repository.rsplit("/", 1)[-1]
        return f"{name}:{self.tag}" if not self.tag.startswith("sha256:") else f"{name}@{self.tag[:19]}"


def split_image(image: str) -> ImageRef:
    """``ghcr.io/acme/cart:1.4`` → (ghcr.io, acme/cart, 1.4); Docker Hub names get their implicit registry."""
    rest, tag = image, "latest"
    if match := _DIGEST.search(rest):
        rest, tag = rest[: match.start()], match.group(0)[1:]
    else:
        head, sep, maybe_tag = rest.rpartition(":")
        if sep and "/" not in maybe_tag:
            rest, tag = head, maybe_tag
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, remainder
    else:
        registry, repository = "docker.io", rest if "/" in rest else f"library/{rest}"
    return ImageRef(registry, repository, tag)


def same_repository(a: str, b: str) -> bool:
    left, right = split_image(a), split_image(b)
    return (left.registry, left.repository) == (right.registry, right.repository)


def current_image(ctx: Context) -> str:
    return ctx.text("image") or (ctx.container.image if ctx.container else "")


def previous_image(ctx: Context) -> str:
    """The newest older image of this container's repository, or "" when history has none."""
    current = current_image(ctx)
    owner = ctx.replicaset
    history = owner.previous_images if owner else []
    if not current:
        return history[0] if history else ""
    return next((i for i in history if i != current and same_repository(i, current)), "")


def same_image_before(ctx: Context) -> bool:
    """The previous revision ran the same image: the breaking change was in the spec (env, config, command)."""
    current, owner = current_image(ctx), ctx.replicaset
    return bool(current and owner and current in owner.previous_images and not previous_image(ctx))


def revisions(ctx: Context) -> tuple[str, str]:
    """(current, previous) Deployment revisions as strings; "" when unknown."""
    owner = ctx.replicaset
    revision = owner.revision if owner and owner.revision.isdigit() else ""
    if not revision or int(revision) <= 1:
        return revision, ""
    return revision, str(int(revision) - 1)
