"""Corpus: crash_loop mechanisms (application bugs in many languages, misleading lines, exit 0 / 139 / 134)."""

from __future__ import annotations

from .common import (
    GI,
    MI,
    Deployment,
    Snap,
    case,
    container,
    crashloop,
    finish_pod,
    gauge,
    http_probe,
    labels,
    mem_limit,
    render,
    res,
    secret_env,
    timeline,
)


def _deploy(s: Snap, app: str, image: str, runs: list[tuple[float, float]], *, cname: str = "app",
            replicas: int = 3, ready: int | None = None, **kw: object) -> Deployment:
    d = Deployment(s, app, replicas=replicas, labels={"app": app}, revision=s.rng.randint(3, 90))
    s.make_pod(d.pod_name, generate_name=d.generate_name, owner=d.owner, labels=d.pod_labels,
               node=s.new_node(str(kw.pop("pool", "workers"))), created=runs[0][0] - s.rng.uniform(4, 12),
               containers=[container(cname, image, **kw)])  # type: ignore[arg-type]
    s.ev_scheduled()
    return d


@case("corpus")
def crash_go_nil_map_panic() -> Snap:
    s = Snap("crash-go-nil-map-panic", cluster="fleet-eks-use1", captured="2024-04-11T18:20:37Z", platform="eks", region="us-east-1",
             version="1.27", ns="fleet")
    runs = timeline(s, 6, lambda i: s.rng.uniform(8, 13))
    d = _deploy(s, "route-optimizer", "883201554120.dkr.ecr.us-east-1.amazonaws.com/fleet/route-optimizer:1.31.0",
                runs, cname="optimizer", ports=[(8080, "http")], resources=res("500m", "512Mi", "2", "1Gi"),
                readiness=http_probe("/readyz", 8080))
    crashloop(s, "optimizer", runs, exit_code=2)
    finish_pod(s)
    d.emit(ready=2)
    a, b = runs[-1]
    txt = render(s, "slog", [
        (a + 0.1, "INFO", "starting route-optimizer version=1.31.0 region=us-east-1"),
        (a + 0.4, "INFO", "loaded depots count=118"),
        (a + 0.6, "INFO", "http server listening addr=:8080"),
        (a + 7.9, "INFO", "optimizing batch batch_id=b-20240411-1819 stops=3412 vehicles=96"),
    ]) + "\n" + "\n".join([
        "panic: assignment to entry in nil map", "",
        "goroutine 87 [running]:",
        "github.com/acme-fleet/route-optimizer/internal/solver.(*Plan).assign(0xc0004a2000, {0xc0001b6f30, 0x8}, 0xc000523e00)",
        "\t/src/internal/solver/plan.go:142 +0x1b4",
        "github.com/acme-fleet/route-optimizer/internal/solver.(*Solver).Solve(0xc00012c0a0, {0x1a2c4e8, 0xc000420190}, 0xc0004f8000)",
        "\t/src/internal/solver/solver.go:88 +0x3e5",
        "github.com/acme-fleet/route-optimizer/internal/api.(*Handler).optimize.func1()",
        "\t/src/internal/api/optimize.go:61 +0x8f",
        "created by github.com/acme-fleet/route-optimizer/internal/api.(*Handler).optimize in goroutine 54",
        "\t/src/internal/api/optimize.go:58 +0x1d6"])
    s.log("optimizer", txt, previous=True)
    s.labels("crash_loop",
             why="A Go runtime panic in the optimizer's own code (assignment to entry in nil map in solver/plan.go) "
                 "kills the process with exit 2 a few seconds after each start, as soon as a batch arrives.",
             remediation="roll back route-optimizer to the previous version and fix Plan.assign to initialise its map")
    return s


@case("corpus")
def crash_node_refused_then_typeerror() -> Snap:
    s = Snap("crash-node-refused-then-typeerror", cluster="saas-kubeadm-fra", captured="2025-02-26T09:51:03Z",
             platform="kubeadm", version="1.30", ns="tenants")
    runs = timeline(s, 5, lambda i: s.rng.uniform(6.5, 8.5))
    d = _deploy(s, "tenant-api", "registry.saas.example/tenant-api:4.0.0-rc.2", runs, cname="api",
                ports=[(3000, "http")], env={"PGHOST": "tenants-pg-rw.tenants.svc", "PGPASSWORD": secret_env("tenants-pg-app", "password")},
                resources=res("200m", "256Mi", "1", "512Mi"))
    crashloop(s, "api", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=2)
    a, b = runs[-1]
    ip = f"10.96.{s.rng.randint(0, 255)}.{s.rng.randint(2, 250)}"
    txt = render(s, "winston", [
        (a + 0.3, "info", "tenant-api 4.0.0-rc.2 booting (node v22.3.0)"),
        (a + 0.4, "info", "connecting to postgres tenants-pg-rw.tenants.svc:5432"),
        (a + 0.45, "warn", f"postgres connect failed: connect ECONNREFUSED {ip}:5432 (attempt 1/10, retrying in 1000ms)"),
        (a + 1.5, "warn", f"postgres connect failed: connect ECONNREFUSED {ip}:5432 (attempt 2/10, retrying in 2000ms)"),
        (a + 3.6, "info", "postgres connected (pool max=10)"),
        (a + 3.9, "info", "migrations up to date (112)"),
        (a + 4.2, "info", "listening on :3000"),
        (a + 5.8, "error", "uncaught exception: Cannot read properties of undefined (reading 'split')"),
    ], logger="tenant-api") + "\n" + "\n".join([
        "TypeError: Cannot read properties of undefined (reading 'split')",
        "    at parseTenantHeader (/app/dist/middleware/tenant.js:23:41)",
        "    at resolveTenant (/app/dist/middleware/tenant.js:47:19)",
        "    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)",
        "    at trim_prefix (/app/node_modules/express/lib/router/index.js:328:13)",
        "    at /app/node_modules/express/lib/router/index.js:286:9",
        "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)",
        "",
        "Node.js v22.3.0"])
    s.log("api", txt, previous=True)
    s.labels("crash_loop",
             why="The ECONNREFUSED lines are start-up retries while the database service warms up and they succeed "
                 "('postgres connected'); the process then dies on an unhandled TypeError in its own tenant header "
                 "middleware (exit 1) when the first request without an X-Tenant header arrives.",
             remediation="roll back to 3.x and fix parseTenantHeader to handle a missing header (return 400)")
    return s


@case("corpus")
def crash_dotnet_unhandled_abort() -> Snap:
    s = Snap("crash-dotnet-unhandled-abort", cluster="hr-aks-uks", captured="2025-01-30T12:09:26Z", platform="aks",
             version="1.31", ns="hr", events_api="events")
    runs = timeline(s, 4, lambda i: s.rng.uniform(3, 5), running_now=True)
    d = _deploy(s, "payroll-api", "acmehr.azurecr.io/payroll/api:2025.1.30.2", runs, cname="payroll",
                ports=[(8080, "http")], env={"ASPNETCORE_ENVIRONMENT": "Production"},
                resources=res("250m", "512Mi", "1", "768Mi"), readiness=http_probe("/healthz/ready", 8080))
    crashloop(s, "payroll", runs, exit_code=134, running_now=True, ready=False)
    finish_pod(s)
    d.emit(ready=2)
    a, b = runs[-2]
    txt = render(s, "dotnet", [
        (a + 0.8, "INFO", "Loading pay calendars for 2025"),
    ], logger="Payroll.Api.Startup.CalendarLoader") + "\n" + "\n".join([
        "Unhandled exception. System.InvalidOperationException: Sequence contains no elements",
        "   at System.Linq.ThrowHelper.ThrowNoElementsException()",
        "   at System.Linq.Enumerable.First[TSource](IEnumerable`1 source)",
        "   at Payroll.Api.Startup.CalendarLoader.CurrentPeriod(IReadOnlyList`1 periods) in /src/Payroll.Api/Startup/CalendarLoader.cs:line 58",
        "   at Payroll.Api.Startup.CalendarLoader.StartAsync(CancellationToken cancellationToken) in /src/Payroll.Api/Startup/CalendarLoader.cs:line 31",
        "   at Microsoft.Extensions.Hosting.Internal.Host.StartAsync(CancellationToken cancellationToken)",
        "   at Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.RunAsync(IHost host, CancellationToken token)",
        "   at Program.<Main>$(String[] args) in /src/Payroll.Api/Program.cs:line 74",
        "   at Program.<Main>(String[] args)"])
    s.log("payroll", txt, previous=True)
    s.log("payroll", render(s, "dotnet", [(runs[-1][0] + 0.8, "INFO", "Loading pay calendars for 2025")],
                            logger="Payroll.Api.Startup.CalendarLoader"))
    s.labels("crash_loop",
             why="An unhandled .NET exception during host start-up (Enumerable.First on an empty pay-period list in "
                 "CalendarLoader) aborts the process (exit 134, SIGABRT) every time; the container restarts "
                 "immediately into the same failure.",
             remediation="fix CalendarLoader.CurrentPeriod to handle a missing 2025 calendar (FirstOrDefault + clear "
                         "error) and load the 2025 pay periods; roll back meanwhile")
    return s


@case("corpus")
def crash_ruby_frozen_string() -> Snap:
    s = Snap("crash-ruby-frozen-string", cluster="marketplace-gke", captured="2024-01-17T20:33:50Z", platform="gke",
             version="1.27", ns="marketplace")
    runs = timeline(s, 6, lambda i: s.rng.uniform(4, 6))
    d = _deploy(s, "pricing-web", "us-central1-docker.pkg.dev/acme-mkt/apps/pricing-web:ruby34-b118", runs,
                cname="puma", command=["bundle", "exec", "puma", "-C", "config/puma.rb"], ports=[(9292, "http")],
                resources=res("300m", "512Mi", None, "1Gi"), pool="default-pool")
    crashloop(s, "puma", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=3, updated=1)
    a, b = runs[-1]
    txt = render(s, "ruby", [
        (a + 0.5, "INFO", "Puma starting in single mode..."),
        (a + 0.5, "INFO", "* Puma version: 6.4.2 (ruby 3.4.1-p0) (\"The Eagle of Durango\")"),
    ]) + "\n" + "\n".join([
        "bundler: failed to load command: puma (/usr/local/bundle/bin/puma)",
        "/app/lib/pricing/currency_format.rb:19:in 'String#<<': can't modify frozen String: \"EUR\" (FrozenError)",
        "\tfrom /app/lib/pricing/currency_format.rb:19:in 'Pricing::CurrencyFormat.symbolize'",
        "\tfrom /app/config/initializers/pricing.rb:7:in '<main>'",
        "\tfrom /usr/local/bundle/gems/railties-7.1.3/lib/rails/engine.rb:689:in 'Kernel#load'",
        "\tfrom /usr/local/bundle/gems/railties-7.1.3/lib/rails/initializable.rb:32:in 'Rails::Initializable::Initializer#run'",
        "\tfrom /app/config/environment.rb:5:in '<top (required)>'",
        "\tfrom config.ru:3:in '<main>'"])
    s.log("puma", txt, previous=True)
    s.labels("crash_loop",
             why="Puma cannot boot: an initializer in the app's own lib mutates a frozen string literal (FrozenError "
                 "under the Ruby 3.4 image), so the process exits 1 on every start.",
             remediation="roll back to the Ruby 3.3 image or change CurrencyFormat.symbolize to build a new string "
                         "(+\"\" / dup) instead of mutating the literal")
    return s


@case("corpus")
def crash_oom_word_duplicate_key() -> Snap:
    s = Snap("crash-oom-word-duplicate-key", cluster="retail-ocp-prod", captured="2024-08-27T06:58:12Z",
             platform="openshift", version="1.29", ns="inventory")
    runs = timeline(s, 5, lambda i: s.rng.uniform(21, 26))
    d = _deploy(s, "stock-service", "quay.io/acme-retail/stock-service:5.7.0", runs, cname="stock",
                env={"JAVA_TOOL_OPTIONS": "-XX:MaxRAMPercentage=75 -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath=/tmp"},
                ports=[(8080, "http")], resources=res("500m", "1Gi", "2", "1Gi"), pool="worker")
    crashloop(s, "stock", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=2)
    gauge(s, "container_memory_working_set_bytes", labels(s, "stock"),
          lambda t: next((310 * MI + min(1.0, (t - a) / 15) * 70 * MI for a, b in runs if a <= t <= b), None),
          -3600, 0, 15, noise=0.02)
    mem_limit(s, "stock", 1 * GI, -3600)
    a, b = runs[-1]
    txt = "\n".join([
        "Picked up JAVA_TOOL_OPTIONS: -XX:MaxRAMPercentage=75 -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath=/tmp"]) + "\n" + render(s, "spring", [
        (a + 2, "INFO", "Starting StockServiceApplication v5.7.0 using Java 21.0.4 with PID 1"),
        (a + 9, "INFO", "Exposing 4 endpoint(s) beneath base path '/actuator' (jvm.memory, jvm.gc, jvm.oom: OutOfMemoryError count=0)"),
        (a + 14, "INFO", "Warming SKU cache from stock_levels (region=ALL)"),
        (a + 19, "WARN", "Exception encountered during context initialization - cancelling refresh attempt: org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'skuCache': Invocation of init method failed"),
        (a + 20, "ERROR", "Application run failed"),
    ], logger="c.a.retail.stock.StockServiceApplication") + "\n" + "\n".join([
        "org.springframework.beans.factory.BeanCreationException: Error creating bean with name 'skuCache': Invocation of init method failed",
        "\tat org.springframework.beans.factory.annotation.InitDestroyAnnotationBeanPostProcessor.postProcessBeforeInitialization(InitDestroyAnnotationBeanPostProcessor.java:222)",
        "\tat org.springframework.boot.SpringApplication.run(SpringApplication.java:335)",
        "\tat com.acme.retail.stock.StockServiceApplication.main(StockServiceApplication.java:12)",
        "Caused by: java.lang.IllegalStateException: Duplicate key SKU-4471902 (attempted merging values StockLevel[sku=SKU-4471902, store=118, qty=4] and StockLevel[sku=SKU-4471902, store=231, qty=0])",
        "\tat java.base/java.util.stream.Collectors.duplicateKeyException(Collectors.java:135)",
        "\tat java.base/java.util.stream.Collectors.lambda$uniqKeysMapAccumulator$1(Collectors.java:182)",
        "\tat com.acme.retail.stock.cache.SkuCache.warm(SkuCache.java:64)",
        "\t... 19 common frames omitted"])
    s.log("stock", txt, previous=True)
    s.labels("crash_loop",
             why="'OutOfMemoryError' appears only in the JVM flags and an actuator banner; memory stays ~380Mi of 1Gi. "
                 "The application fails to start because SkuCache.warm builds a map with Collectors.toMap and hits a "
                 "duplicate key (IllegalStateException), exit 1.",
             remediation="fix SkuCache.warm to key by (sku, store) or merge duplicates, then redeploy; roll back 5.7.0 "
                         "meanwhile")
    return s


@case("corpus")
def crash_exit_zero_deployment() -> Snap:
    s = Snap("crash-exit-zero-deployment", cluster="iot-k3s-hq", captured="2024-07-02T08:14:40Z", platform="k3s",
             version="1.28", ns="iot-firmware")
    runs = timeline(s, 8, lambda i: s.rng.uniform(11, 16))
    d = _deploy(s, "firmware-catalog-sync", "ghcr.io/acme-iot/firmware-sync:2.3.1", runs, cname="sync",
                command=["python", "-m", "fwsync", "--once"], resources=res("50m", "128Mi", "500m", "256Mi"),
                replicas=1, pool="hq-node")
    crashloop(s, "sync", runs, exit_code=0, reason="Completed")
    finish_pod(s)
    d.emit(ready=0)
    a, b = runs[-1]
    s.log("sync", render(s, "python", [
        (a + 0.5, "INFO", "fwsync 2.3.1 starting (mode=once)"),
        (a + 3.1, "INFO", "fetched manifest https://updates.acme-iot.example/v2/manifest.json (412 images)"),
        (a + 9.8, "INFO", "catalog up to date: 0 added, 0 removed"),
        (a + 10.0, "INFO", "done, exiting"),
    ], logger="fwsync"), previous=True)
    s.labels("crash_loop",
             why="The container exits 0 (Completed) after a successful one-shot sync, but it runs under a Deployment "
                 "with restartPolicy Always, so kubelet restarts it and applies CrashLoopBackOff. The workload kind is "
                 "wrong, not the program.",
             remediation="run fwsync --once as a CronJob (or drop --once so it loops) instead of a Deployment")
    return s


@case("corpus")
def crash_python_segfault() -> Snap:
    s = Snap("crash-python-segfault", cluster="vision-gke", captured="2024-09-13T14:02:27Z", platform="gke",
             version="1.29", ns="vision", events_api="events")
    runs = timeline(s, 4, lambda i: s.rng.uniform(30, 45))
    d = _deploy(s, "ocr-worker", "us-east4-docker.pkg.dev/acme-vision/ocr/ocr-worker:0.18.0", runs, cname="ocr",
                command=["python", "-X", "faulthandler", "-m", "ocr.worker"], resources=res("1", "2Gi", "2", "3Gi"),
                pool="cpu-pool")
    crashloop(s, "ocr", runs, exit_code=139)
    finish_pod(s)
    d.emit(ready=1)
    a, b = runs[-1]
    txt = render(s, "python", [(a + 1, "INFO", "ocr worker ready (onnxruntime 1.19.0, model=doc-layout-v7)"),
                               (a + 28, "INFO", "job 5f2a91 page 1/12 size=4961x7016")], logger="ocr.worker") + "\n" + "\n".join([
        "Fatal Python error: Segmentation fault", "",
        "Thread 0x00007f3c1e7fc6c0 (most recent call first):",
        '  File "/usr/local/lib/python3.11/site-packages/onnxruntime/capi/onnxruntime_inference_collection.py", line 220 in run',
        '  File "/app/ocr/layout.py", line 88 in detect_regions',
        '  File "/app/ocr/worker.py", line 141 in process_page',
        '  File "/app/ocr/worker.py", line 97 in handle', "",
        "Extension modules: numpy.core._multiarray_umath, PIL._imaging, onnxruntime.capi.onnxruntime_pybind11_state (total: 19)"])
    s.log("ocr", txt, previous=True)
    s.labels("crash_loop",
             why="The worker segfaults (exit 139, SIGSEGV) inside the onnxruntime native extension on an oversized "
                 "page image; faulthandler prints the Python stack. Memory is far from the limit; it is a native "
                 "crash in the application.",
             remediation="pin onnxruntime back to 1.18.x or downscale pages before inference; add the failing job to "
                         "a dead-letter queue so it stops poisoning workers")
    return s


@case("corpus")
def crash_php_class_not_found() -> Snap:
    s = Snap("crash-php-class-not-found", cluster="cms-eks-euc1", captured="2023-12-05T16:45:18Z", platform="eks", region="eu-central-1",
             version="1.25", ns="cms")
    runs = timeline(s, 5, lambda i: s.rng.uniform(1.5, 2.5))
    d = _deploy(s, "newsletter-queue", "611822903340.dkr.ecr.eu-central-1.amazonaws.com/cms/laravel-app:2023.12.05-1",
                runs, cname="queue-worker", command=["php", "artisan", "queue:work", "--queue=newsletter", "--tries=3"],
                resources=res("100m", "256Mi", "500m", "512Mi"))
    crashloop(s, "queue-worker", runs, exit_code=255)
    s.events.clear()  # the collector's ServiceAccount could not list events in this namespace
    finish_pod(s)
    d.emit(ready=1)
    a, b = runs[-1]
    txt = "\n".join([
        "PHP Fatal error:  Uncaught Error: Class \"App\\Services\\Newsletter\\SegmentResolver\" not found in /var/www/html/app/Providers/NewsletterServiceProvider.php:21",
        "Stack trace:",
        "#0 /var/www/html/vendor/laravel/framework/src/Illuminate/Container/Container.php(908): App\\Providers\\NewsletterServiceProvider->App\\Providers\\{closure}()",
        "#1 /var/www/html/vendor/laravel/framework/src/Illuminate/Foundation/Application.php(1028): Illuminate\\Container\\Container->build()",
        "#2 /var/www/html/artisan(35): Illuminate\\Foundation\\Console\\Kernel->handle()",
        "#3 {main}",
        "  thrown in /var/www/html/app/Providers/NewsletterServiceProvider.php on line 21",
        render(s, "laravel", [(b - 0.1, "ERROR", 'Class "App\\Services\\Newsletter\\SegmentResolver" not found {"exception":"[object] (Error(code: 0): Class \\"App\\\\Services\\\\Newsletter\\\\SegmentResolver\\" not found at /var/www/html/app/Providers/NewsletterServiceProvider.php:21)"}')])])
    s.log("queue-worker", txt, previous=True)
    s.labels("crash_loop",
             why="The queue worker dies on boot with a PHP fatal 'Class ... not found' raised by the app's own service "
                 "provider (the class was renamed but the provider not updated / autoloader not regenerated), exit 255.",
             remediation="fix the NewsletterServiceProvider binding (or run composer dump-autoload in the image build) "
                         "and redeploy")
    return s


@case("corpus")
def crash_external_403_noise() -> Snap:
    s = Snap("crash-external-403-noise", cluster="devtools-aks", captured="2024-06-06T11:27:39Z", platform="aks",
             version="1.26", ns="devmetrics")
    runs = timeline(s, 4, lambda i: s.rng.uniform(70, 95))
    d = _deploy(s, "repo-insights", "acmedev.azurecr.io/devmetrics/repo-insights:1.4.0", runs, cname="collector",
                command=["python", "-m", "insights.collect"], resources=res("100m", "256Mi", "1", "512Mi"),
                env={"GITHUB_APP_ID": "318822", "SLACK_WEBHOOK_URL": secret_env("repo-insights", "slack-webhook")},
                replicas=1, pool="toolpool")
    crashloop(s, "collector", runs, exit_code=1)
    finish_pod(s)
    d.emit(ready=0)
    a, b = runs[-1]
    txt = render(s, "structlog", [
        (a + 1, "info", "collector starting org=acme-dev repos=214"),
        (a + 2, "warning", "slack notify failed status=403 body='{\"ok\":false,\"error\":\"invalid_token\"}' url=https://hooks.slack.com/services/T0***/B0***/*** - notifications disabled"),
        (a + 30, "info", "repo stats collected repo=acme-dev/web-portal commits_30d=412"),
        (a + 31, "warning", "GET https://api.github.com/repos/acme-dev/legacy-ftp/traffic/views -> 403 Forbidden "
                            "(Resource not accessible by integration); skipping traffic stats"),
        (a + 60, "info", "repo stats collected repo=acme-dev/infra-modules commits_30d=87"),
        (b - 1, "info", "computing velocity repo=acme-dev/archive-2019"),
    ], logger="insights.collect") + "\n" + "\n".join([
        "Traceback (most recent call last):",
        '  File "<frozen runpy>", line 198, in _run_module_as_main',
        '  File "/app/insights/collect.py", line 212, in <module>',
        "    main()",
        '  File "/app/insights/collect.py", line 188, in main',
        "    row = velocity(stats)",
        '  File "/app/insights/metrics.py", line 41, in velocity',
        "    return stats.merged_prs / stats.active_weeks",
        "ZeroDivisionError: division by zero"])
    s.log("collector", txt, previous=True)
    s.labels("crash_loop",
             why="The two 403s are from Slack and the GitHub REST API (an invalid webhook token and a GitHub App "
                 "permission), both handled and skipped; they are not Kubernetes RBAC. The process dies on a "
                 "ZeroDivisionError in its own metrics code for a repo with no active weeks (exit 1).",
             remediation="guard velocity() against active_weeks == 0 and redeploy; optionally fix the Slack webhook "
                         "secret and the GitHub App traffic permission")
    return s
