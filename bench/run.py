"""The scenarios, run as whole processes against one emulator process, ours interleaved with the
baseline, several runs each (medians)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench import fleet, speccache, targets
from bench.emulator import TOKEN, EmulatorProcess, calls_by_route, lists_by_namespace
from bench.measure import Sample, run
from bench.results import Figures, Row

READY_SECONDS = 3 + 12  # emulated pending + initializing of a create (emulator defaults)
PARALLELISM = 8  # provisioner's default --parallelism
REFERENCE = ("-c", "import yaml, click")
# The rows of a no-change plan, by spec cache (bench.speccache), and of the floor beside them.
PLAN_COLD = "plan, no change, cold (no spec cache)"
PLAN_WARM = "plan, no change, warm (spec cache of the previous run)"
FLOOR = "floor: specs read with libyaml + 1 list GET per namespace"


@dataclass(frozen=True)
class Settings:
    latency_ms: int = 50
    speed: float = 5.0
    runs: int = 3
    big_runs: int = 2  # runs of the 5,000-endpoint cases
    quick: bool = False

    def runs_at(self, n: int) -> int:
        return self.big_runs if n >= 5000 else self.runs


@dataclass(frozen=True)
class Plan:
    """Which sizes (endpoints, namespaces) each scenario runs at."""

    validate: tuple[tuple[int, int], ...]
    plan: tuple[tuple[int, int], ...]
    warm: tuple[tuple[int, int], ...]  # of `plan`: also run warm, interleaved with the cold runs
    plan_changed: tuple[tuple[int, int], ...]
    apply_creates: tuple[tuple[int, int], ...]
    apply_updates: tuple[tuple[int, int], ...]
    wait: tuple[tuple[int, int], ...]


# validate, plan and updates at 100 (validate), 1,000 and 5,000 endpoints, plans in 1 and 5
# namespaces, cold and (from 1,000) warm; apply of creates at the 200, waiting at 1,000.
# `make bench` ends in about 7 minutes on 2 shared cores (8.5 under a load average of 3; the
# baseline's 5,000 GETs are most of it), under the 10 the issue allows.
FULL = Plan(
    validate=((100, 1), (1000, 1), (5000, 1)),
    plan=((100, 1), (1000, 1), (5000, 1), (1000, 5), (5000, 5)),
    warm=((1000, 1), (5000, 1), (1000, 5), (5000, 5)),
    plan_changed=((1000, 5), (5000, 1)),
    apply_creates=((200, 1),),
    apply_updates=((1000, 1), (5000, 1)),
    wait=((1000, 5),),
)
QUICK = Plan(
    validate=((100, 1),),
    plan=((100, 1), (1000, 1)),
    warm=((1000, 1),),
    plan_changed=((1000, 5),),
    apply_creates=((50, 1),),
    apply_updates=(),
    wait=((100, 5),),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, repo: Path, work: Path, settings: Settings) -> None:
        self.repo, self.work, self.settings = repo, work, settings
        self.bin = repo / ".venv" / "bin"
        self.python = str(self.bin / "python")
        self.rows: list[Row] = []
        self.reference: Figures | None = None
        self._template: dict[str, Any] | None = None
        self.emu: EmulatorProcess | None = None
        self.seconds_seeding = 0.0  # the longest seeding of a fleet (5,000: one call)

    # --- environment --------------------------------------------------------------------------

    def env(self, state: Path | None = None) -> dict[str, str]:
        home = self.work / "hf-home"
        home.mkdir(exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.work),
            "HF_HOME": str(home),
            "HF_TOKEN": TOKEN,
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "NO_COLOR": "1",
            "PYTHONPATH": str(self.repo),
            "PROVISIONER_BACKEND": f"local:{state or self.work / 'state'}",
        }
        if self.emu is not None:
            env["PROVISIONER_API_URL"] = self.emu.url
        return env

    def fresh_state(self) -> Path:
        state = self.work / "state"
        shutil.rmtree(state, ignore_errors=True)
        state.mkdir()
        return state

    def ours(self, *args: str, expect: Sequence[int] = (0,)) -> Sample:
        sample = run([str(self.bin / "provisioner"), *args], env=self.env(), cwd=self.work)
        if sample.code not in expect:
            raise RuntimeError(
                f"provisioner {' '.join(args)} exited {sample.code}, expected {list(expect)}:\n"
                + sample.output[-3000:]
            )
        return sample

    def baseline(self, n: int, namespaces: int) -> Sample:
        assert self.emu is not None
        names = self.work / f"names-{n}-{namespaces}.json"
        names.write_text(json.dumps(fleet.placement(n, namespaces)))
        sample = run(
            [self.python, "-m", "bench.baseline", self.emu.url, str(names)],
            env=self.env(),
            cwd=self.repo,
        )
        if sample.code != 0:
            raise RuntimeError(f"the baseline failed:\n{sample.output[-3000:]}")
        return sample

    def floor(self, root: Path, namespaces: list[str]) -> Sample:
        """The floor (`bench.floor`): the files read with libyaml, one list GET per namespace."""
        assert self.emu is not None
        sample = run(
            [self.python, "-m", "bench.floor", self.emu.url, str(root), *namespaces],
            env=self.env(),
            cwd=self.repo,
        )
        if sample.code != 0:
            raise RuntimeError(f"the floor failed:\n{sample.output[-3000:]}")
        return sample

    def specs(self, n: int, namespaces: int, *, changed: bool = False) -> Path:
        root = self.work / "specs" / f"{n}-{namespaces}{'-changed' if changed else ''}"
        if not root.exists():
            fleet.write_specs(root, n, namespaces, with_changes=changed)
        return root

    # --- the live fleet -----------------------------------------------------------------------

    def template(self) -> dict[str, Any]:
        """The create body provisioner sends, from one real apply (see `bench.fleet`)."""
        if self._template is None:
            assert self.emu is not None
            root = self.work / "specs" / "template"
            fleet.write_specs(root, 0, 1)
            (root / fleet.namespace(0) / f"{fleet.TEMPLATE_NAME}.yaml").write_text(
                fleet.spec_text(fleet.TEMPLATE_NAME)
            )
            self.emu.reset()
            self.fresh_state()
            self.ours("apply", "--dir", str(root), "--auto-approve", "--no-wait")
            self._template = fleet.create_body(self.emu.requests())
            self.emu.reset()
        return self._template

    def seed(self, n: int, namespaces: int, state: str = "running") -> None:
        assert self.emu is not None
        template = self.template()
        self.emu.reset()
        start = time.perf_counter()
        for ns, names in fleet.placement(n, namespaces).items():
            self.emu.seed(ns, fleet.bodies(template, names), state)
        self.seconds_seeding = max(self.seconds_seeding, time.perf_counter() - start)
        self.emu.clear_requests()

    def calls(self) -> tuple[dict[str, int], dict[str, int]]:
        assert self.emu is not None
        entries = self.emu.requests()
        self.emu.clear_requests()
        return calls_by_route(entries), lists_by_namespace(entries)

    # --- scenarios ----------------------------------------------------------------------------

    def cold_start(self) -> None:
        runs = max(self.settings.runs, 5)
        ours: list[Sample] = []
        ref: list[Sample] = []
        for _ in range(runs):
            ref.append(run([self.python, *REFERENCE], env=self.env()))
            ours.append(self.ours("--help"))
        self.reference = Figures.of(ref)
        self.rows.append(Row("python -c 'import yaml, click' (reference)", 0, 0, self.reference))
        help_row = Row("provisioner --help", 0, 0, Figures.of(ours))
        help_row.verdicts.append(
            targets.cold_start(help_row.ours.wall, self.reference.wall, what="--help")
        )
        self.rows.append(help_row)

    def cold(self, root: Path, *args: str, expect: Sequence[int] = (0,)) -> Sample:
        """`provisioner ARGS` over `root` with no spec cache (it writes one)."""
        speccache.make_cold(root)
        return self.ours(*args, expect=expect)

    def warm(self, root: Path, *args: str, expect: Sequence[int] = (0,)) -> Sample:
        """`provisioner ARGS` over `root` with the spec cache a previous run wrote."""
        speccache.check_warm(root)
        return self.ours(*args, expect=expect)

    def validate(self, n: int, namespaces: int, first: bool) -> None:
        root = self.specs(n, namespaces)
        samples: list[Sample] = []
        warm: list[Sample] = []
        for _ in range(self.settings.runs):
            samples.append(self.cold(root, "validate", "--dir", str(root)))
            warm.append(self.warm(root, "validate", "--dir", str(root)))
        row = Row("validate (cold: no spec cache)", n, namespaces, Figures.of(samples))
        warm_row = Row("validate (warm: spec cache)", n, namespaces, Figures.of(warm))
        if first:
            # A fresh process whose compiled schemas are not cached yet (`spec.compiled`): the
            # first run on a machine, or a CI runner without the cache folder.
            fresh: list[Sample] = []
            for k in range(self.settings.runs):
                cache = self.work / f"validator-cache-{n}-{k}"
                env = {**self.env(), "XDG_CACHE_HOME": str(cache)}
                argv = [str(self.bin / "provisioner"), "validate", "--dir", str(root)]
                speccache.make_cold(root)
                fresh.append(run(argv, env=env, cwd=self.work))
            first_run = Row(
                "validate (cold: no spec cache, schemas not compiled)",
                n,
                namespaces,
                Figures.of(fresh),
            )
            if self.reference is not None:
                first_run.verdicts.append(
                    targets.cold_start(
                        first_run.ours.wall, self.reference.wall, what=f"validate of {n}, uncached"
                    )
                )
        if first and self.reference is not None:
            row.verdicts.append(
                targets.cold_start(row.ours.wall, self.reference.wall, what=f"validate of {n}")
            )
            # The pre-commit hook's case: the same folder validated again.
            warm_row.verdicts.append(
                targets.cold_start(
                    warm_row.ours.wall, self.reference.wall, what=f"validate of {n}, warm"
                )
            )
            probe = run(
                [
                    self.python,
                    "-X",
                    "importtime",
                    "-m",
                    "provisioner",
                    "validate",
                    "--dir",
                    str(root),
                ],
                env=self.env(),
                cwd=self.work,
            )
            row.verdicts.append(targets.no_http_client(targets.imported_modules(probe.output)))
        self.rows.append(row)
        self.rows.append(warm_row)
        if first:
            self.rows.append(first_run)

    def plan(self, n: int, namespaces: int, *, changed: bool, warm: bool = False) -> Row:
        """Each run: a cold plan (no spec cache), then with `warm` a warm one (over the cache the
        cold one just wrote), then for an unchanged folder the baseline and the floor, so every
        ratio compares figures of the same moments of the machine."""
        root = self.specs(n, namespaces, changed=changed)
        self.seed(n, namespaces)
        argv = ("plan", "--dir", str(root), "--detailed-exitcode")
        expect = (2,) if changed else (0,)
        cold: list[Sample] = []
        hot: list[Sample] = []
        base: list[Sample] = []
        floor: list[Sample] = []
        calls: dict[str, int] = {}
        lists: dict[str, int] = {}
        warm_calls: dict[str, int] = {}
        warm_lists: dict[str, int] = {}
        names = list(fleet.placement(n, namespaces))
        for _ in range(self.settings.runs_at(n)):
            self.fresh_state()
            cold.append(self.cold(root, *argv, expect=expect))
            calls, lists = self.calls()
            if warm:
                self.fresh_state()
                hot.append(self.warm(root, *argv, expect=expect))
                warm_calls, warm_lists = self.calls()
            if not changed:
                base.append(self.baseline(n, namespaces))
                self.calls()
                floor.append(self.floor(root, names))
                self.calls()
        baseline = Figures.of(base) if base else None
        floor_figures = Figures.of(floor) if floor else None
        measured = [(targets.COLD, cold, calls, lists)]
        if warm:
            measured.append((targets.WARM, hot, warm_calls, warm_lists))
        rows = []
        for cache, samples, route_calls, ns_lists in measured:
            if changed:
                name = f"plan, 10 % changed, {cache}"
            else:
                name = PLAN_COLD if cache == targets.COLD else PLAN_WARM
            row = Row(name, n, namespaces, Figures.of(samples), baseline, calls=route_calls)
            row.floor = floor_figures
            if not changed:
                row.verdicts.extend(
                    targets.no_change_plan(
                        cache,
                        n=n,
                        ours_wall=row.ours.wall,
                        ours_rss_mib=row.ours.rss_mib,
                        floor_wall=floor_figures.wall if floor_figures else None,
                        baseline_wall=baseline.wall if baseline else None,
                    )
                )
            elif cache == targets.COLD and n >= targets.MEMORY_FROM:
                row.verdicts.append(targets.memory(row.ours.rss_mib, n=n))
            row.verdicts.append(
                targets.plan_calls(route_calls, ns_lists, namespaces=names, n=n, page=None)
            )
            rows.append(row)
        self.rows.extend(rows)
        if floor_figures is not None:
            self.rows.append(Row(FLOOR, n, namespaces, floor_figures))
        return rows[0]

    def apply_creates(self, n: int, namespaces: int) -> None:
        assert self.emu is not None
        root = self.specs(n, namespaces)
        samples: list[Sample] = []
        planned: list[Sample] = []
        calls: dict[str, int] = {}
        for _ in range(self.settings.runs):
            self.emu.reset()
            self.fresh_state()
            # What apply does before its first create (start, read, plan), measured alone on the
            # same empty fleet: the part of the run that is neither sending nor waiting. Cold,
            # and so apply warm after it: a pull request's plan job, then the merge's apply job
            # over the cache the Action keeps between them.
            planned.append(self.cold(root, "plan", "--dir", str(root)))
            samples.append(self.warm(root, "apply", "--dir", str(root), "--auto-approve"))
            calls, _ = self.calls()
        row = Row(f"apply, {n} creates (wait)", n, namespaces, Figures.of(samples), calls=calls)
        row.verdicts.append(targets.mutations(calls, changes=n))
        row.verdicts.append(
            targets.apply_creates(
                row.ours.wall,
                n=n,
                parallelism=PARALLELISM,
                rtt=self.settings.latency_ms / 1000,
                ready=READY_SECONDS / self.settings.speed,
                planning=Figures.of(planned).wall,
            )
        )
        self.rows.append(row)

    def apply_updates(self, n: int, namespaces: int, *, wait: bool) -> None:
        root = self.specs(n, namespaces, changed=True)
        changes = sum(1 for i in range(n) if fleet.changed(i))
        samples: list[Sample] = []
        calls: dict[str, int] = {}
        lists: dict[str, int] = {}
        for _ in range(self.settings.runs):
            self.seed(n, namespaces)
            self.fresh_state()
            flag = "--wait" if wait else "--no-wait"
            samples.append(self.cold(root, "apply", "--dir", str(root), "--auto-approve", flag))
            calls, lists = self.calls()
        if wait:
            name = f"apply + wait for {changes} updated to be ready"
        else:
            name = f"apply, {changes} updates (no wait)"
        row = Row(name, n, namespaces, Figures.of(samples), calls=calls)
        row.verdicts.append(targets.mutations(calls, changes=changes))
        if wait:
            waited = list(fleet.placement(n, namespaces))
            # Updates of existing endpoints: each is read again once before its PUT.
            row.verdicts.append(
                targets.wait_lists(lists, calls, namespaces=waited, rereads=changes)
            )
        self.rows.append(row)

    def planning_cpu(self) -> None:
        """Marginal planning CPU per spec and linearity, over the cold no-change plans in 1 ns
        (the path that loads and checks every spec)."""
        cold = [r for r in self.rows if r.scenario == PLAN_COLD and r.namespaces == 1]
        by_size = {r.size: r.ours.cpu for r in cold}
        if len(by_size) < 2:
            return
        largest = next(r for r in cold if r.size == max(by_size))
        largest.verdicts.append(targets.cpu_per_spec(by_size))
        largest.verdicts.append(targets.linear(by_size))

    # --- the whole run ------------------------------------------------------------------------

    def all(self, plan: Plan) -> None:
        steps: list[tuple[str, Callable[[], object]]] = [("cold start", self.cold_start)]
        for i, (n, ns) in enumerate(plan.validate):
            steps.append((f"validate {n}/{ns}", partial(self.validate, n, ns, i == 0)))
        for n, ns in plan.plan:
            warm = (n, ns) in plan.warm
            steps.append((f"plan {n}/{ns}", partial(self.plan, n, ns, changed=False, warm=warm)))
        for n, ns in plan.plan_changed:
            steps.append((f"plan 10% {n}/{ns}", partial(self.plan, n, ns, changed=True)))
        for n, ns in plan.apply_creates:
            steps.append((f"apply creates {n}/{ns}", partial(self.apply_creates, n, ns)))
        for n, ns in plan.apply_updates:
            steps.append(
                (f"apply updates {n}/{ns}", partial(self.apply_updates, n, ns, wait=False))
            )
        for n, ns in plan.wait:
            steps.append((f"wait {n}/{ns}", partial(self.apply_updates, n, ns, wait=True)))
        namespaces = [fleet.namespace(k) for k in range(5)]
        with EmulatorProcess(
            self.bin,
            self.work,
            latency_ms=self.settings.latency_ms,
            speed=self.settings.speed,
            namespaces=namespaces,
        ) as emu:
            self.emu = emu
            for label, step in steps:
                start = time.perf_counter()
                step()
                log(f"  {label}: {time.perf_counter() - start:.1f} s")
        self.emu = None
        self.planning_cpu()


def environment(
    repo: Path, settings: Settings, total: float, seeding: float = 0.0
) -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], check=False, cwd=repo, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    if git("status", "--porcelain", "--untracked-files=no"):
        commit += "+dirty"
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
        "latency_ms": settings.latency_ms,
        "speed": settings.speed,
        "runs": settings.runs,
        "runs_at_5000": settings.big_runs,
        "longest_seeding_seconds": seeding,
        # Other work on the machine skews every figure: the 1-minute load average at the end.
        "load_average": round(os.getloadavg()[0], 2),
        "quick": settings.quick,
        "total_seconds": total,
        "parallelism": PARALLELISM,
        "baseline_parallelism": 10,
    }
