"""One import for case modules."""

from __future__ import annotations

from . import case  # noqa: F401
from .extras import (  # noqa: F401
                     configmap,
                     endpoints,
                     network_policy,
                     pv,
                     pvc,
                     resource_quota,
                     role,
                     role_binding,
                     service,
                     storageclass,
)
from .logs import every, render  # noqa: F401
from .objects import (  # noqa: F401
                     DaemonSet,
                     Deployment,
                     Job,
                     StatefulSet,
                     cm_env,
                     cond,
                     container,
                     exec_probe,
                     grpc_probe,
                     http_probe,
                     mount,
                     node,
                     res,
                     secret_env,
                     taint,
                     tcp_probe,
)
from .platforms import backoff_message, probe_timeout_message, scheduling_message, taint_phrase  # noqa: F401
from .render import finish_pod  # noqa: F401
from .series import (  # noqa: F401
                     GI,
                     MI,
                     add,
                     counter,
                     cpu_pack,
                     gauge,
                     labels,
                     mem_limit,
                     node_fs,
                     ramp,
                     running_in,
                     sample,
                     volume_stats,
)
from .snap import Obj, Snap, image_pull_failure  # noqa: F401
from .stories import backoff, crashloop, steady, timeline  # noqa: F401
