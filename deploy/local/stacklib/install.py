"""Install the stack's programs into .cache/, idempotently, at the versions of deploy/versions.env.

- Elasticsearch: the integ-test-zip distribution from Maven Central, sha512-checked, unpacked once.
- versitygw (the S3 server) and the Docker Compose CLI plugin: built from the Go module proxy.
- A JDK >= 21 is found (settings, JAVA_HOME, /usr/lib/jvm); Elasticsearch 9 needs one.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import urllib.request
import zipfile
from pathlib import Path

from services.settings import process_environment
from stacklib.procs import StackError

ROOT = Path(__file__).resolve().parents[3]
MAVEN = "https://repo1.maven.org/maven2/org/elasticsearch/distribution/integ-test-zip/elasticsearch"


def versions() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / "deploy/versions.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def java_home(configured: Path | None, environ: dict[str, str], search: Path = Path("/usr/lib/jvm")) -> Path:
    candidates = [configured] if configured else []
    candidates += [Path(environ[k]) for k in ("ES_JAVA_HOME", "JAVA_HOME") if environ.get(k)]
    candidates += sorted(search.glob("*"), reverse=True) if search.is_dir() else []
    seen = []
    for home in candidates:
        java = home / "bin" / "java"
        if not java.exists():
            continue
        major = _java_major(java)
        seen.append(f"{home} (Java {major})")
        if major >= 21:
            return home
    raise StackError(
        "Elasticsearch 9 needs Java 21 or newer; found " + (", ".join(seen) or "no JDK") + ".\n"
        "Fix: install a JDK >= 21 (e.g. Temurin 21 or 25) and point WENYUAN_STACK__JAVA_HOME at it."
    )


def _java_major(java: Path) -> int:
    out = subprocess.run([str(java), "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def elasticsearch(cache: Path) -> Path:
    """Unpacked Elasticsearch home under .cache, downloaded and checked on first use."""
    v = versions()
    version, expected = v["ELASTICSEARCH_VERSION"], v["ELASTICSEARCH_ZIP_SHA512"]
    home = cache / f"elasticsearch-{version}"
    if (home / "bin" / "elasticsearch").exists():
        return home
    archive = cache / "downloads" / f"elasticsearch-{version}.zip"
    if not archive.exists() or _sha512(archive) != expected:
        archive.parent.mkdir(parents=True, exist_ok=True)
        url = f"{MAVEN}/{version}/elasticsearch-{version}.zip"
        print(f"stack: downloading Elasticsearch {version} from Maven Central", flush=True)
        partial = archive.with_suffix(".part")
        try:
            with urllib.request.urlopen(url, timeout=60) as resp, partial.open("wb") as out:
                shutil.copyfileobj(resp, out, 1 << 20)
        except OSError as exc:
            raise StackError(f"could not download {url}: {exc}") from exc
        actual = _sha512(partial)
        if actual != expected:
            partial.unlink()
            raise StackError(f"checksum mismatch for {url}:\n expected {expected}\n got      {actual}")
        partial.replace(archive)
    staging = cache / f".elasticsearch-{version}.unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            target = Path(zf.extract(info, staging))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)
    (staging / f"elasticsearch-{version}").replace(home)
    shutil.rmtree(staging, ignore_errors=True)
    return home


def _sha512(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def go_command(path: str | None = None, fallback: str = "/usr/local/go/bin:/usr/lib/go/bin") -> str:
    go = shutil.which("go", path=path) or shutil.which("go", path=fallback)
    if go is None:
        raise StackError("Go (>= 1.24) is needed to build the S3 server (versitygw) and is not on PATH.\n"
                         "Fix: install Go (e.g. `apt-get install golang-go`, or go.dev/dl) and re-run.")
    return go


def _go(cache: Path) -> tuple[str, dict[str, str]]:
    go = go_command()
    gopath = cache / "go"
    env = dict(process_environment(), GOPATH=str(gopath), GOMODCACHE=str(gopath / "pkg/mod"),
               GOCACHE=str(gopath / "build"), GOFLAGS="-modcacherw", CGO_ENABLED="0")
    return go, env


def versitygw(cache: Path) -> Path:
    version = versions()["VERSITYGW_VERSION"]
    binary = cache / "bin" / f"versitygw-{version}"
    if binary.exists():
        return binary
    go, env = _go(cache)
    gobin = cache / "go" / f"bin-versitygw-{version}"
    print(f"stack: building versitygw {version} with go install (a few minutes, once)", flush=True)
    env["GOBIN"] = str(gobin)
    subprocess.run([go, "install", "-trimpath", f"-ldflags=-X main.Version={version}",
                    f"github.com/versity/versitygw/cmd/versitygw@{version}"], check=True, env=env)
    binary.parent.mkdir(parents=True, exist_ok=True)
    (gobin / "versitygw").replace(binary)
    return binary


def docker_compose(cache: Path) -> Path:
    """The Compose CLI plugin (only to validate deploy/compose; there is no Docker engine here)."""
    version = versions()["DOCKER_COMPOSE_VERSION"]
    plugin = cache / "docker" / "cli-plugins" / "docker-compose"
    stamp = plugin.with_suffix(".version")
    if plugin.exists() and stamp.exists() and stamp.read_text().strip() == version:
        return plugin
    go, env = _go(cache)
    print(f"stack: building the docker compose plugin {version} (a few minutes, once)", flush=True)
    plugin.parent.mkdir(parents=True, exist_ok=True)
    ldflags = f"-X github.com/docker/compose/v5/internal.Version={version}"
    subprocess.run([go, "build", "-trimpath", f"-ldflags={ldflags}", "-o", str(plugin),
                    "github.com/docker/compose/v5/cmd"],
                   check=True, env=env, cwd=ROOT / "deploy/compose/tool")
    stamp.write_text(version + "\n")
    return plugin


# Debian packages the project needs beyond the toolchains: a CJK font, to render the sample
# images' Chinese text and the OCR test images; wrk, the load tool of the latency benchmark;
# PostgreSQL, the server the access store's tests also run against (production's database);
# Chromium, the browser of the web UI's tests (Playwright drives it; it never downloads one).
POSTGRES_MAJOR = "15"
DEBIAN_PACKAGES = {"fonts-wqy-microhei": Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
                   "wrk": Path("/usr/bin/wrk"),
                   f"postgresql-{POSTGRES_MAJOR}": Path(f"/usr/lib/postgresql/{POSTGRES_MAJOR}/bin/initdb"),
                   "chromium": Path("/usr/bin/chromium"),
                   "redis-server": Path("/usr/bin/redis-server")}
REDIS_SERVER = "/usr/bin/redis-server"


def postgres_bin() -> Path:
    return Path(f"/usr/lib/postgresql/{POSTGRES_MAJOR}/bin")


def debian_packages() -> None:
    missing = [name for name, probe in DEBIAN_PACKAGES.items() if not probe.exists()]
    if not missing:
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise StackError(f"missing Debian packages: {' '.join(missing)}.\n"
                         f"Fix: sudo apt-get install -y {' '.join(missing)}")
    print(f"stack: apt-get install {' '.join(missing)}", flush=True)
    env = dict(process_environment(), DEBIAN_FRONTEND="noninteractive")
    update = subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, text=True)
    if update.returncode != 0:
        raise StackError(f"apt-get update failed:\n{update.stderr[-2000:]}")
    result = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
                            env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(f"apt-get install {' '.join(missing)} failed:\n{result.stderr[-2000:]}")


# The web UI's front-end build: files of npm packages (pinned with integrity hashes by
# services/web/package-lock.json) copied into the git-ignored services/web/static/build/.
WEB = ROOT / "services" / "web"
WEB_FILES = {"openseadragon/build/openseadragon/openseadragon.min.js": "openseadragon/openseadragon.min.js",
             "openseadragon/build/openseadragon/openseadragon.min.js.map": "openseadragon/openseadragon.min.js.map",
             "openseadragon/build/openseadragon/images": "openseadragon/images",
             "openseadragon/LICENSE.txt": "openseadragon/LICENSE.txt",
             # Swagger UI for the gateway's /docs, served from this origin rather than a CDN.
             "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui/swagger-ui-bundle.js",
             "swagger-ui-dist/swagger-ui.css": "swagger-ui/swagger-ui.css",
             "swagger-ui-dist/favicon-32x32.png": "swagger-ui/favicon-32x32.png",
             "swagger-ui-dist/LICENSE": "swagger-ui/LICENSE",
             # <model-viewer> for GLB: the one ES module bundle that includes three.js (no bare imports to resolve).
             "@google/model-viewer/dist/model-viewer.min.js": "model-viewer/model-viewer.min.js",
             "@google/model-viewer/LICENSE": "model-viewer/LICENSE",
             "three/LICENSE": "model-viewer/three-LICENSE",
             # Mirador (side-by-side comparison of IIIF manifests, the /viewer page): its UMD bundle, React included.
             "mirador/dist/mirador.min.js": "mirador/mirador.min.js",
             "mirador/LICENSE": "mirador/LICENSE"}


def _web_fingerprint(web: Path) -> str:
    digest = hashlib.sha256(repr(sorted(WEB_FILES.items())).encode())
    for name in ("package.json", "package-lock.json"):
        digest.update((web / name).read_bytes())
    return digest.hexdigest()


def web_ui(cache: Path, web: Path = WEB, path: str | None = None) -> Path:
    """services/web/static/build, made by `npm ci` of the lock (into .cache/web) when the lock has changed."""
    build = web / "static" / "build"
    stamp = build / ".lock.sha256"
    fingerprint = _web_fingerprint(web)
    if stamp.is_file() and stamp.read_text().strip() == fingerprint:
        return build
    npm = shutil.which("npm", path=path)
    if npm is None:
        raise StackError("npm (Node.js >= 20) is needed to build the web UI and is not on PATH.\n"
                         "Fix: install Node.js with npm (e.g. `apt-get install nodejs npm`) and re-run.")
    work = cache / "web"
    work.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(web / name, work / name)
    print("stack: building the web UI (npm ci of services/web/package-lock.json)", flush=True)
    npm_cache = str((cache / "npm").resolve())
    result = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--cache", npm_cache],
                            cwd=work, env=process_environment(), capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(f"npm ci failed for the web UI:\n{(result.stdout + result.stderr)[-2000:]}")
    staging = work / "build.partial"
    shutil.rmtree(staging, ignore_errors=True)
    for source, target in WEB_FILES.items():
        origin, dest = work / "node_modules" / source, staging / target
        dest.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, dest)
        else:
            shutil.copyfile(origin, dest)
    (staging / ".lock.sha256").write_text(fingerprint + "\n")
    shutil.rmtree(build, ignore_errors=True)
    shutil.move(staging, build)
    return build
