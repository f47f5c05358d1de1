"""Every dependency, transitive ones included, is pinned in requirements.lock, and the lock
agrees with the direct pins of requirements.txt and requirements-dev.txt (`make lock`
regenerates it; `make run` and `make test` install with it as constraints)."""

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;#]+)")


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path):
    pins = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-r ")):
            continue
        match = PIN.match(line)
        assert match, f"{path}: not an exact pin: {line!r}"
        pins[_canonical(match.group(1))] = match.group(3)
    return pins


def test_the_lock_pins_every_direct_dependency_at_the_same_version():
    lock = _pins("requirements.lock")
    for path in ("requirements.txt", "requirements-dev.txt"):
        for name, version in _pins(path).items():
            assert lock.get(name) == version, (
                f"{path} pins {name}=={version}, requirements.lock has {lock.get(name)}: run `make lock`"
            )


def test_the_lock_holds_more_than_the_direct_dependencies():
    direct = set(_pins("requirements.txt")) | set(_pins("requirements-dev.txt"))
    transitive = set(_pins("requirements.lock")) - direct
    assert {"werkzeug", "jinja2", "itsdangerous"} <= transitive
