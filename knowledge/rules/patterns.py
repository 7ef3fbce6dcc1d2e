"""Wording of failure mechanisms across runtimes, Kubernetes versions and languages.

Each pattern names a *mechanism* (a DNS lookup failed, the API server refused a verb, the kernel killed for
memory), not an application: rules combine them with container state before concluding anything.
"""

from __future__ import annotations

import re

from knowledge.linepatterns import LinePattern


def _rx(*alternatives: str) -> LinePattern:
    """One case-insensitive alternation, run by RE2 (linear time, see knowledge/linepatterns.py)."""
    return LinePattern("|".join(f"(?:{a})" for a in alternatives), ignore_case=True)


# Kubernetes API authorization (RBAC): client-go, kubectl, Java/Python clients, raw API Status.
RBAC = _rx(
    r"\bforbidden\b.{0,200}\b(?:user|serviceaccount)\b.{0,200}\bcannot\s+\w+\s+resource",
    r"system:serviceaccount:[\w.-]+:[\w.-]+.{0,40}\bcannot\s+\w+",
    r"cannot\s+(?:get|list|watch|create|update|patch|delete|deletecollection)\s+resource\s+\\?\"",
    r"\"reason\"\s*:\s*\"Forbidden\".{0,300}cannot\s+\w+",
    r"Failure executing: \w+ at: https://[^ ]+\. Message: Forbidden",
    r"\brbac\b.{0,40}\b(?:denied|forbidden)",
)
RBAC_PARTS = re.compile(
    r"(?:User|user)\s+\\?\"?(?P<user>system:serviceaccount:[\w.-]+:[\w.-]+|[\w@.:-]+)\\?\"?\s+cannot\s+(?P<verb>\w+)\s+"
    r"resource\s+\\?\"(?P<resource>[\w./-]+)\\?\"(?:\s+in\s+API\s+group\s+\\?\"(?P<group>[\w.-]*)\\?\")?"
    r"(?:\s+(?:in\s+the\s+namespace\s+\\?\"(?P<namespace>[\w.-]+)|at\s+the\s+cluster\s+scope))?"
)
API_UNAUTHORIZED = _rx(
    r"\b401\b.{0,60}\bunauthorized\b.{0,120}(?:kubernetes|apiserver|api server|10\.96\.0\.1|kubernetes\.default)",
    r"(?:kubernetes|apiserver|kubernetes\.default).{0,120}\b(?:401|unauthorized)\b",
    r"open /var/run/secrets/kubernetes\.io/serviceaccount/token: no such file",
    r"unable to load in-cluster configuration",
)

# DNS resolution failures, by resolver and language. "could not resolve" alone is not DNS (placeholders, dependencies,
# references): it counts only when what failed to resolve is a host, an address or a dotted name.
_RESOLVED_THING = r"\s+(?:the\s+)?(?:host(?:name)?|address|name|domain|service|['\"`(]?[\w-]+(?:\.[\w-]+)+)"
DNS = _rx(
    r"\bEAI_AGAIN\b", r"\bENOTFOUND\b", r"\bNXDOMAIN\b", r"\bSERVFAIL\b",
    r"no such host", r"temporary failure in name resolution", r"name or service not known",
    r"nodename nor servname provided", r"UnknownHostException", r"could not resolve host",
    r"could not translate host name", r"failed to resolve" + _RESOLVED_THING, r"Name does not resolve", r"getaddrinfo failed",
    r"lookup [\w.-]+(?: on [\d.:]+)?: (?:server misbehaving|no such host|i/o timeout)",
    r"lookup [\w.-]+ on [\w.:\[\]]+:.{0,100}(?:i/o timeout|no such host|server misbehaving|connection refused)",
    r"DNS resolution failed", r"name resolution", r"Resolve(?:r)? ?error", r"dns error", r"unable to resolve" + _RESOLVED_THING,
    r"socket\.gaierror", r"NameResolutionError", r"Host not found", r"unknown host", r"bad address '[\w.-]+'",
    r"can't resolve" + _RESOLVED_THING, r"Could not resolve" + _RESOLVED_THING, r"dns lookup (?:failed|error)", r"QueryTimeout",
)  # fmt: skip
# Transport-level failures to reach a dependency.
CONNECT = _rx(
    r"connection refused", r"ConnectionRefused(?:Error)?", r"ConnectionReset(?:Error)?", r"\bECONNREFUSED\b", r"\bECONNRESET\b", r"connection reset by peer",
    r"\bi/o timeout\b", r"\bETIMEDOUT\b", r"connect(?:ion)? timed out", r"connection timed out",
    r"no route to host", r"\bEHOSTUNREACH\b", r"network is unreachable", r"\bENETUNREACH\b",
    r"TLS handshake timeout", r"failed to connect to", r"could not connect to", r"cannot connect to",
    r"unable to connect to", r"connect: connection", r"dial tcp [^ ]+: (?:connect|i/o)",
    r"ConnectTimeout", r"ConnectException", r"SocketTimeoutException", r"upstream connect error",
    r"Connection to [\w.:-]+ (?:refused|timed out)", r"server selection timeout", r"ServerSelectionTimeoutError",
    r"connection to server at .{0,80} failed", r"is the server running", r"Can't connect to (?:MySQL|server)",
    r"Operation timed out", r"OperationalError.{0,80}(?:connect|timeout|refused)", r"No connection could be made",
    r"Connection to node -?\d+ .{0,160} could not be established", r"(?:Node|Broker) may not be available",
    r"Bootstrap broker .{0,160} disconnected", r"Timeout expired while fetching topic metadata",
    r"NoBrokersAvailable", r"all brokers are down", r"Connection is closed", r"broken pipe",
    r"host is unreachable", r"\bunreachable\b",
)  # fmt: skip
CONNECT_SUCCESS = _rx(
    r"\bconnected\b(?! to be)",
    r"connection (?:established|succeeded|ok|ready)",
    r"successfully connected",
    r"\bready to accept connections\b",
    r"\breconnected\b",
    r"\bping (?:ok|succeeded)\b",
    r"handshake complete",
)

# Memory exhaustion reported by the program itself.
APP_OOM = _rx(
    r"(?:^|[^A-Za-z])java\.lang\.OutOfMemoryError", r"^\s*Exception in thread .{0,60}OutOfMemoryError",
    r"JavaScript heap out of memory", r"FATAL ERROR: .{0,60}(?:heap limit|Allocation failed)",
    r"^\s*MemoryError\b", r"\bMemoryError: ", r"fatal error: runtime: out of memory", r"runtime: cannot allocate memory",
    r"std::bad_alloc", r"Cannot allocate memory", r"out of memory: killed process", r"Allowed memory size of \d+ bytes exhausted",
    r"OutOfMemoryException", r"memory allocation of \d+ bytes failed", r"\bOOM command not allowed\b",
)  # fmt: skip

# A process inside a container killed by SIGKILL while the container lives on: worker and child processes of
# pre-forking servers (php-fpm, gunicorn, uwsgi, Apache, nginx, Celery/billiard, PostgreSQL backends), and the
# kernel's own report. On cgroup v1 the OOM killer picks such a process, not the container.
PROCESS_KILLED = _rx(
    r"exited on signal 9\b", r"signal 9 \(SIGKILL\)", r"\bwas sent SIGKILL\b", r"terminated by signal 9\b",
    r"killed by signal 9\b", r"exit signal Killed \(9\)", r"\bKilled process \d+", r"\bdied\b.{0,40}\bSIGKILL\b",
    r"\bprocess \d+ (?:was )?killed \(signal 9\)",
)  # fmt: skip

# Storage exhaustion.
DISK_FULL = _rx(
    r"no space left on device", r"\bENOSPC\b", r"disk (?:is )?full", r"disk quota exceeded", r"\bEDQUOT\b",
    r"could not extend file", r"could not write to file", r"insufficient disk space", r"not enough space on the disk",
    r"flood[- ]stage disk watermark", r"out of disk space", r"filesystem is full", r"write error: No space",
    r"IOException: No space", r"read-only-allow-delete",
)  # fmt: skip

# Local configuration problems: files, permissions, required settings, parse errors, credentials.
FILE_PERMISSION = _rx(
    r"permission denied(?!.{0,40}(?:publickey|\(publickey))", r"\bEACCES\b", r"PermissionError", r"AccessDeniedException",
    r"operation not permitted", r"\bEPERM\b", r"read-only file system", r"\bEROFS\b", r"cannot create directory",
    r"mkdir .{0,120}: permission denied", r"Unable to create directory", r"not writable", r"is not writeable",
    r"Could not open .{0,80} for writing",
)  # fmt: skip
MISSING_SETTING = _rx(
    r"(?:environment variable|env var|env)\s+\\?['\"`]?[A-Z][A-Z0-9_]+\\?['\"`]?\s+(?:is\s+)?(?:not set|missing|required|undefined|empty)",
    r"(?:missing|required)\s+(?:required\s+)?(?:environment variable|env var|configuration|config(?:uration)? (?:key|value|option)|setting|property)",
    r"KeyError: '[A-Z][A-Z0-9_]+'", r"must be (?:set|provided|specified)", r"is required but (?:was )?not (?:set|provided)",
    r"ImproperlyConfigured", r"ConfigurationError", r"ConfigError", r"invalid configuration", r"configuration (?:error|invalid)",
    r"could not (?:load|parse|read) (?:config|configuration|settings)", r"failed to (?:load|parse|read) (?:config|configuration|settings)",
    r"error (?:loading|parsing|reading) (?:config|configuration|settings)", r"(?:yaml|json|toml)\s*(?:parse|syntax|decode)\s*error",
    r"mapping values are not allowed", r"found character that cannot start any token", r"unknown field",
    r"(?:invalid|bad|malformed)\s+(?:value|port|url|uri|dsn|format|setting|option|flag|duration)",
    r"no such file or directory.{0,80}\.(?:ya?ml|json|toml|conf|cfg|ini|properties|xml|env|pem|crt|key)\b",
    r"(?:config|configuration) file .{0,80}(?:not found|does not exist|missing)",
    r"Could not resolve placeholder", r"BeanCreationException.{0,200}(?:property|placeholder|config)",
    r"APPLICATION FAILED TO START", r"Failed to bind properties", r"unrecognized (?:option|argument|flag)",
    r"flag provided but not defined", r"NumberFormatException", r"ValueError: invalid literal for int",
    r"ParseIntError", r"strconv\.\w+: parsing", r"cannot unmarshal",
    r"password authentication failed", r"Access denied for user", r"authentication failed", r"invalid (?:credentials|password|api key|token)",
    r"SASL authentication failed", r"NOAUTH", r"WRONGPASS", r"AccessDenied(?:Exception)?\b", r"InvalidAccessKeyId",
    r"SignatureDoesNotMatch", r"ExpiredToken", r"not authorized to perform", r"does not have .{0,40}permission",
    r"x509: certificate", r"certificate verify failed", r"unknown authority", r"SSLError", r"CERTIFICATE_VERIFY_FAILED",
    r"secret .{0,60} not found", r"configmap .{0,60} not found", r"couldn't find key", r"key .{0,40} not found in",
    r"key not found: \\?[\"'][A-Z][A-Z0-9_]{2,}\\?[\"']",  # Ruby ENV.fetch("X") of a variable that is not set
)  # fmt: skip

# Application crash signatures (used to tell a code bug from an infrastructure cause).
APP_CRASH = _rx(
    r"^\s*panic:", r"thread '.{1,80}' panicked", r"Traceback \(most recent call last\)", r"Exception in thread",
    r"Unhandled (?:exception|rejection)", r"\b\w+(?:Error|Exception)\b: ", r"segmentation fault", r"\bSIGSEGV\b",
    r"nil pointer dereference", r"index out of (?:range|bounds)", r"NullPointerException", r"undefined method",
    r"uninitialized constant", r"is not a function", r"Cannot read propert", r"NameError", r"AttributeError",
    r"ModuleNotFoundError", r"ImportError", r"ClassNotFoundException", r"NoClassDefFoundError", r"NoMethodError",
    r"TypeError", r"assertion failed", r"core dumped", r"abort", r"stack overflow", r"unreachable code",
    r"failed to boot", r"Unable to load application", r"exited with code", r"relation .{0,60} does not exist",
    r"no such column", r"migration", r"exec format error", r"executable file not found", r"not found in \$PATH",
    r"error while loading shared libraries", r"GLIBC_\d", r"Illegal instruction",
    # dependency injection that cannot wire the application at startup (Nest, Spring, Guice, .NET)
    r"can't resolve dependencies of", r"UnsatisfiedDependencyException", r"NoSuchBeanDefinitionException",
    r"Unable to resolve service for type",
)  # fmt: skip

# Where telemetry goes (OpenTelemetry collectors, Jaeger, Zipkin, Datadog and StatsD agents): failing to reach it
# is noise in a crash, never why a process dies.
TELEMETRY_TARGET = _rx(
    r":(?:4317|4318|14250|14268|6831|6832|9411|8126|8125)\b", r"\b(?:otel|opentelemetry|jaeger|zipkin|datadog|dd-agent)",
    r"\bstatsd\b", r"otlp",
)  # fmt: skip

# A mounted volume that broke under a running node (the path exists, the filesystem behind it does not answer).
VOLUME_BROKEN = _rx(
    r"stale (?:NFS|remote) file handle", r"\bESTALE\b", r"transport endpoint is not connected",
    r"volumes/kubernetes\.io~[\w-]+/.{0,200}(?:input/output error|no such device|host is down)",
)  # fmt: skip

# Image pull failure flavours (messages from kubelet, containerd, CRI-O, Docker).
# The image exists, but not for this node's OS/architecture (containerd, CRI-O, Docker wording).
PULL_PLATFORM = _rx(
    r"no match for platform in manifest", r"does not match the specified platform", r"no matching manifest for \w+/\w+",
    r"image with reference .{0,200} was found but does not match",
)  # fmt: skip
PULL_NOT_FOUND = _rx(
    r"manifest unknown",
    r"not found",
    r"does not exist",
    r"manifest for .{0,120} not found",
    r"repository .{0,80} not found",
    r"name unknown",
    r"failed to resolve reference",
)
PULL_AUTH = _rx(
    r"unauthorized",
    r"authentication required",
    r"pull access denied",
    r"denied",
    r"\b401\b",
    r"\b403\b",
    r"no basic auth credentials",
    r"requested access to the resource is denied",
    r"authorization failed",
    r"may require 'docker login'",
    r"token.{0,40}expired",
)
PULL_RATE = _rx(r"toomanyrequests", r"rate limit", r"\b429\b", r"pull rate limit")
PULL_TLS = _rx(r"x509", r"certificate", r"tls:", r"server gave HTTP response to HTTPS client")
PULL_NETWORK = _rx(
    r"no such host",
    r"i/o timeout",
    r"connection refused",
    r"dial tcp",
    r"context deadline exceeded",
    r"TLS handshake timeout",
    r"network is unreachable",
)

# Volume mount / attach failures.
MOUNT_FAILURE = _rx(
    r"MountVolume\.\w+ failed", r"Unable to attach or mount volumes", r"timed out waiting for the condition",
    r"Multi-Attach error", r"AttachVolume\.Attach failed", r"is still being used", r"\bin use\b",
    r"driver name [\w.-]+ not found in the list of registered CSI drivers", r"mount failed", r"mount\.nfs",
    r"wrong fs type", r"bad superblock", r"failed to provision volume", r"ProvisioningFailed", r"WaitForFirstConsumer",
    r"unbound immediate PersistentVolumeClaims", r"volume .{0,80} (?:not found|already attached|already exclusively attached)",
    r"rpc error: code = (?:Internal|Aborted|DeadlineExceeded|NotFound|FailedPrecondition|InvalidArgument)",
    r"stale NFS file handle", r"access denied by server while mounting", r"could not attach", r"failed to attach",
)  # fmt: skip
MOUNT_REFERENCE_MISSING = _rx(
    r"(?:configmap|secret)s? \\?\"[\w.-]+\\?\" not found", r"couldn't find key [\w.-]+ in (?:ConfigMap|Secret)"
)

# Lines that only say *that* the process died, not why: they follow the real cause and must not outvote it.
GENERIC_EXIT = _rx(
    r"Traceback \(most recent call last\)",
    r"failed to boot",
    r"exited with code",
    r"Shutting down",
    r"exiting\b",
    r"^\s*at [\w$.<>]+\(",
    r"^\s*File \"",
    r"bundler: failed to load command",
    r"giving up",
    r"process exited",
    r"command terminated with exit code",
    r"Application run failed",
    r"Stopping service",
)
