"""CPU seconds per test, for finding what makes the suite slow on a shared machine (wall time
there says more about the neighbours than about the test). Opt-in, never in `make test`:

    .venv/bin/pytest -p tests.support.cpu --cpu-top 30 tests/test_x.py

Each phase (set-up, call, teardown) is measured in the process that runs it (an xdist worker
too): this process's CPU (every thread) plus its reaped children's (a server fixture's process
counts when it is stopped). The summary, printed by the process that reports, adds the phases
up per test and per file; ``--cpu-json FILE`` writes every test's figures."""

import json
import resource
import time
from collections import defaultdict

import pytest


def pytest_addoption(parser):
    group = parser.getgroup("cpu")
    group.addoption("--cpu-top", type=int, default=20, help="tests listed in the CPU summary")
    group.addoption("--cpu-json", default=None, help="write each test's CPU seconds to this file")


def _cpu() -> tuple[float, float]:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    yield from _measured(item, "setup")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    yield from _measured(item, "call")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    yield from _measured(item, "teardown")


def _measured(item, phase: str):
    own, children = _cpu()
    yield
    own_after, children_after = _cpu()
    item.stash.setdefault(_KEY, {})[phase] = (own_after - own, children_after - children)


_KEY = pytest.StashKey[dict]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    spent = item.stash.get(_KEY, {}).get(call.when)
    if spent is not None:  # travels with the report from an xdist worker to the controller
        report.user_properties.append(("cpu", (call.when, *spent)))


class Summary:
    def __init__(self, config):
        self.config = config
        self.tests: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def pytest_runtest_logreport(self, report):
        for key, value in report.user_properties:
            if key == "cpu":
                phase, own, children = value
                self.tests[report.nodeid][phase] += own
                self.tests[report.nodeid]["children"] += children

    def pytest_terminal_summary(self, terminalreporter):
        if not self.tests:
            return
        write = terminalreporter.write_line
        total = {t: sum(v for k, v in f.items()) for t, f in self.tests.items()}
        by_phase = defaultdict(float)
        by_file = defaultdict(float)
        for nodeid, figures in self.tests.items():
            for phase, value in figures.items():
                by_phase[phase] += value
            by_file[nodeid.split("::")[0]] += total[nodeid]
        terminalreporter.section("CPU seconds")
        write(
            f"{len(self.tests)} tests, {sum(total.values()):.1f} s CPU: "
            + ", ".join(f"{p} {v:.1f}" for p, v in sorted(by_phase.items()))
        )
        for path, value in sorted(by_file.items(), key=lambda x: -x[1])[:25]:
            write(f"  {value:8.2f}  {path}")
        write("slowest tests (setup/call/teardown/children):")
        for nodeid in sorted(total, key=lambda t: -total[t])[: self.config.getoption("cpu_top")]:
            f = self.tests[nodeid]
            parts = "/".join(f"{f.get(p, 0):.2f}" for p in ("setup", "call", "teardown", "children"))
            write(f"  {total[nodeid]:7.2f}  {parts}  {nodeid}")
        path = self.config.getoption("cpu_json")
        if path:
            with open(path, "w") as out:
                json.dump({t: dict(f) for t, f in self.tests.items()}, out, indent=0)


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the process that reports: the controller, or alone
        config.pluginmanager.register(Summary(config), "cpu-summary")
