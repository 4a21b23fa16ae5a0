"""The benchmark harness's logic (bench/): target evaluation, the results files, spec folders and
seeding the emulator from them. Nothing here is timed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import fleet, floor, speccache, targets
from bench.emulator import TOKEN, calls_by_route, emulator_config, lists_by_namespace, route_of
from bench.measure import Sample
from bench.results import Figures, Row, write
from bench.run import FULL, PLAN_COLD, PLAN_WARM, QUICK, Bench, Settings
from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.emulator.config import load_config_file
from tests.support.raw_http import call


def test_targets_pass_and_fail_on_the_figures() -> None:
    assert targets.speedup(1.0, 5.5, at_least=5).ok
    assert not targets.speedup(2.0, 5.5, at_least=5).ok
    assert targets.speedup(2.0, 5.5, at_least=5).figure == "2.8x"
    # Slope (2.0 - 0.5) s over 4,900 specs: 0.306 ms/spec, just over 0.3.
    assert not targets.cpu_per_spec({100: 0.5, 5000: 2.0}).ok
    assert targets.cpu_per_spec({100: 0.5, 5000: 1.9}).ok
    assert targets.linear({100: 0.5, 1000: 0.77, 5000: 1.97}).ok  # 0.3 ms/spec throughout
    assert not targets.linear({100: 0.5, 1000: 0.77, 5000: 3.0}).ok  # dearer per spec at scale
    assert targets.apply_creates(2.0, n=200, parallelism=8, rtt=0.05, ready=3.0).ok
    assert not targets.apply_creates(9.0, n=200, parallelism=8, rtt=0.05, ready=3.0).ok
    assert targets.memory(99.0, n=5000).ok and not targets.memory(100.0, n=5000).ok
    assert targets.mutations(
        {"POST /v2/endpoint/{ns}": 3, "GET /v2/endpoint/{ns}": 9}, changes=3
    ).ok


def test_call_targets_read_the_request_log_by_route() -> None:
    log = [
        {"method": "GET", "path": "/api/whoami-v2", "namespace": None},
        {"method": "GET", "path": "/v2/provider/a", "namespace": "a"},
        {"method": "GET", "path": "/v2/endpoint/a", "namespace": "a"},
        {"method": "GET", "path": "/v2/endpoint/b", "namespace": "b"},
        {"method": "PUT", "path": "/v2/endpoint/a/x", "namespace": "a"},
        {"method": "GET", "path": "/endpoints/a/x/health", "namespace": "a"},
    ]
    calls, lists = calls_by_route(log), lists_by_namespace(log)
    assert calls == {
        "GET /api/whoami-v2": 1,
        "GET /endpoints/{ns}/{name}/health": 1,
        "GET /v2/endpoint/{ns}": 2,
        "GET /v2/provider/{ns}": 1,
        "PUT /v2/endpoint/{ns}/{name}": 1,
    }
    assert targets.plan_calls(calls, lists, namespaces=["a", "b"], n=10, page=None).ok
    thrice = {**calls, "GET /v2/provider/{ns}": 3}  # more than one per namespace with specs
    assert not targets.plan_calls(thrice, lists, namespaces=["a", "b"], n=10, page=None).ok
    assert route_of({"method": "POST", "path": "/v2/endpoint/a/x/pause"}) == (
        "POST /v2/endpoint/{ns}/{name}/pause"
    )
    assert not targets.wait_lists({"a": 4, "b": 2}, calls, namespaces=["a", "b"]).ok
    assert targets.wait_lists({"a": 4, "b": 4, "c": 1}, calls, namespaces=["a", "b"]).ok
    # One GET per changed endpoint (the ownership re-read), never more.
    reread = {**calls, "GET /v2/endpoint/{ns}/{name}": 3}
    assert targets.wait_lists({"a": 4, "b": 4}, reread, namespaces=["a", "b"], rereads=3).ok
    assert not targets.wait_lists({"a": 4, "b": 4}, reread, namespaces=["a", "b"], rereads=2).ok


def test_validate_http_clients_are_read_from_importtime_output() -> None:
    stderr = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       120 |        120 |   yaml.reader\n"
        "import time:       300 |       9000 | urllib3\n"
    )
    found = targets.imported_modules(stderr)
    assert found == {"yaml", "urllib3"}
    verdict = targets.no_http_client(found)
    assert (verdict.ok, verdict.figure) == (False, "urllib3")


def test_results_files_hold_every_row_and_the_environment(tmp_path: Path) -> None:
    ours = Figures.of(
        [
            Sample(2.0, 1.0, 50.0, 0, ""),
            Sample(4.0, 3.0, 60.0, 0, ""),
            Sample(3.0, 2.0, 40.0, 0, ""),
        ]
    )
    assert (ours.wall, ours.cpu, ours.rss_mib, ours.runs) == (3.0, 2.0, 60.0, 3)
    base = Figures(wall=15.0, cpu=5.0, rss_mib=70.0, runs=3)
    row = Row(
        "plan, no change",
        1000,
        1,
        ours,
        base,
        calls={"GET /v2/endpoint/{ns}": 1},
        verdicts=[targets.speedup(ours.wall, base.wall, at_least=5)],
    )
    env = {
        "cpus": 2,
        "python": "3.11.7",
        "commit": "abc1234",
        "latency_ms": 50,
        "speed": 5.0,
        "runs": 3,
        "total_seconds": 120.0,
    }
    json_path, md_path = write(tmp_path, [row], env)
    doc = json.loads(json_path.read_text())
    assert doc["environment"] == env
    assert doc["summary"] == {"pass": 1, "fail": 0}
    (saved,) = doc["rows"]
    assert (saved["ratio"], saved["ours"]["wall"], saved["baseline"]["wall"]) == (5.0, 3.0, 15.0)
    assert saved["verdicts"][0]["result"] == "PASS"
    table = md_path.read_text()
    assert "| plan, no change | 1,000 | 1 | 3.00 s | 2.00 s | 60 MiB | 15.00 s | 5.0x |" in table
    assert "PASS plan >= 5x faster than the baseline: 5.0x" in table
    assert "commit abc1234, emulator latency 50 ms" in table


def test_spec_folders_spread_namespaces_and_changes(tmp_path: Path) -> None:
    root = fleet.write_specs(tmp_path / "specs", 100, 5, with_changes=True)
    specs = sorted(p for p in root.rglob("ep-*.yaml"))
    assert len(specs) == 100
    per_ns = {p.parent.name for p in specs}
    assert per_ns == {f"bench-{k}" for k in range(5)}
    grown = [p for p in specs if "max_replicas: 2" in p.read_text()]
    assert len(grown) == 10
    assert {p.parent.name for p in grown} == per_ns  # changes in every namespace


def test_seeding_a_placement_from_a_template_body(
    make_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(emulator_config(["bench-0", "bench-1"])))
    emu = make_emulator(load_config_file(config_file, EmulatorConfig(speed=0.0)))
    template = {
        "name": fleet.TEMPLATE_NAME,
        "type": "protected",
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {
            "accelerator": "cpu",
            "instanceType": "intel-spr",
            "instanceSize": "x2",
            "scaling": {"minReplica": 1, "maxReplica": 1},
        },
        "model": {
            "repository": "gpt2",
            "framework": "pytorch",
            "image": {"huggingface": {}},
            "env": {"NAME": fleet.TEMPLATE_NAME},
        },
    }
    for ns, names in fleet.placement(7, 2).items():
        reply = call(
            "POST",
            f"{emu.url}/admin/seed",
            {"namespace": ns, "endpoints": fleet.bodies(template, names)},
            token=None,
        )
        assert reply.status == 201, reply.text
    listed = call("GET", f"{emu.url}/v2/endpoint/bench-1").json()["items"]
    assert sorted(i["name"] for i in listed) == ["ep-00001", "ep-00003", "ep-00005"]
    assert {i["model"]["env"]["NAME"] == i["name"] for i in listed} == {True}
    assert {i["status"]["state"] for i in listed} == {"running"}


def test_the_floor_reads_every_file_and_one_list_per_namespace(
    make_emulator: Callable[..., Emulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(emulator_config(["bench-0", "bench-1"])))
    emu = make_emulator(load_config_file(config_file, EmulatorConfig(speed=0.0)))
    template = {
        "name": fleet.TEMPLATE_NAME,
        "type": "protected",
        "provider": {"vendor": "aws", "region": "us-east-1"},
        "compute": {
            "accelerator": "cpu",
            "instanceType": "intel-spr",
            "instanceSize": "x2",
            "scaling": {"minReplica": 1, "maxReplica": 1},
        },
        "model": {"repository": "gpt2", "framework": "pytorch", "image": {"huggingface": {}}},
    }
    for ns, names in fleet.placement(7, 2).items():
        call(
            "POST",
            f"{emu.url}/admin/seed",
            {"namespace": ns, "endpoints": fleet.bodies(template, names)},
            token=None,
        )
    root = fleet.write_specs(tmp_path / "specs", 7, 2)
    call("DELETE", f"{emu.url}/admin/requests", None, token=None)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert floor.main([emu.url, str(root), "bench-0", "bench-1"]) == 0
    # 7 specs, _settings.yaml, the root's and each namespace folder's _defaults.yaml.
    assert capsys.readouterr().out.strip() == "read 11 documents, 7 endpoints"
    log = call("GET", f"{emu.url}/admin/requests", None, token=None).json()
    assert calls_by_route(log) == {"GET /v2/endpoint/{ns}": 2}


def test_the_floor_verdict_is_the_plan_over_the_floor() -> None:
    verdict = targets.floor_ratio(1.45, 0.33, at_most=3.0, what="cold")
    assert (verdict.ok, verdict.figure) == (False, "4.4x")
    assert targets.floor_ratio(0.9, 0.33, at_most=3.0, what="cold").ok
    assert targets.no_http_client({"yaml", "httpx2"}).figure == "httpx2"


def _verdicts(cache: str, n: int, **figures: float | None) -> dict[str, tuple[bool, str]]:
    found = targets.no_change_plan(
        cache,
        n=n,
        ours_wall=figures.get("wall", 1.0) or 1.0,
        ours_rss_mib=figures.get("rss", 50.0) or 50.0,
        floor_wall=figures.get("floor", 0.5),
        baseline_wall=figures.get("baseline", 30.0),
    )
    return {v.target: (v.ok, v.figure) for v in found}


def test_a_cold_plan_is_held_to_3x_the_floor_and_the_memory_a_warm_one_to_2x() -> None:
    # 1.2 s against a 0.5 s floor: 2.4x, within 3x cold, over 2x warm.
    cold = _verdicts("cold", 5000, wall=1.2, floor=0.5, baseline=30.0, rss=120.0)
    assert cold == {
        "plan (cold) <= 3x the floor": (True, "2.4x"),
        "plan (cold) >= 20x faster than the baseline": (True, "25.0x"),
        "plan peak RSS at 5000 < 100 MiB": (False, "120 MiB"),
    }
    # The same figures warm: the floor target is 2x, and peak RSS is the cold path's alone.
    warm = _verdicts("warm", 5000, wall=1.2, floor=0.5, baseline=30.0, rss=120.0)
    assert warm == {
        "plan (warm) <= 2x the floor": (False, "2.4x"),
        "plan (warm) >= 20x faster than the baseline": (True, "25.0x"),
    }
    assert _verdicts("warm", 5000, wall=0.9, floor=0.5)["plan (warm) <= 2x the floor"][0]


def test_the_speed_up_wanted_is_5x_at_1000_and_20x_at_5000_and_none_at_100() -> None:
    at_1000 = _verdicts("warm", 1000, wall=1.0, floor=0.5, baseline=6.0)
    assert at_1000["plan (warm) >= 5x faster than the baseline"] == (True, "6.0x")
    assert not _verdicts("cold", 5000, wall=1.0, baseline=6.0)[
        "plan (cold) >= 20x faster than the baseline"
    ][0]
    assert set(_verdicts("cold", 100, wall=1.0, floor=0.5)) == {"plan (cold) <= 3x the floor"}
    # No floor or baseline measured (a plan of a changed folder): no ratio is made up.
    assert _verdicts("warm", 1000, floor=None, baseline=None) == {}
    with pytest.raises(ValueError, match="cache must be"):
        targets.no_change_plan(
            "lukewarm", n=1, ours_wall=1, ours_rss_mib=1, floor_wall=None, baseline_wall=None
        )


def test_warm_plans_run_beside_cold_ones_at_1000_and_5000() -> None:
    for plan in (FULL, QUICK):
        assert set(plan.warm) <= set(plan.plan)  # a warm run follows a cold one of that size
    assert {(1000, 1), (5000, 1)} <= set(FULL.warm)
    assert (100, 1) not in FULL.warm


def _figures(wall: float, cpu: float) -> Figures:
    return Figures(wall=wall, cpu=cpu, rss_mib=50.0, runs=3)


def test_planning_cpu_is_measured_on_the_cold_plans_only(tmp_path: Path) -> None:
    bench = Bench(tmp_path, tmp_path, Settings())
    # Cold: 0.3 ms of CPU per spec throughout.
    for size, cpu in ((100, 0.5), (1000, 0.77), (5000, 1.97)):
        bench.rows.append(Row(PLAN_COLD, size, 1, _figures(cpu * 1.5, cpu)))
    # Warm runs are far cheaper per spec: were they counted, the slope would pass anything.
    for size, cpu in ((1000, 0.55), (5000, 0.6)):
        bench.rows.append(Row(PLAN_WARM, size, 1, _figures(cpu * 1.5, cpu)))
    bench.planning_cpu()

    (largest,) = [r for r in bench.rows if r.verdicts]
    assert (largest.scenario, largest.size) == (PLAN_COLD, 5000)
    assert [v.figure for v in largest.verdicts] == [
        "0.300 ms/spec (100->5000)",
        "marginal 1000->5000 / 100->1000 = 1.00",
    ]


def _validate(spec_dir: Path, home: Path) -> None:
    """`provisioner validate` as the harness runs it: a whole process, no PROVISIONER_SPEC_CACHE."""
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "NO_COLOR": "1"}
    argv = [sys.executable, "-m", "provisioner", "validate", "--dir", str(spec_dir)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_cold_means_no_cache_folder_and_warm_the_file_a_real_run_wrote(tmp_path: Path) -> None:
    outside = fleet.write_specs(tmp_path / "specs", 5, 1)
    # In a repository the cache is at its root (the bench's folders are outside any).
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    inside = fleet.write_specs(repository / "stacks" / "bench", 5, 1)
    for spec_dir, cache_folder in (
        (outside, outside / ".provisioner" / "cache"),
        (inside, repository / ".provisioner" / "cache"),
    ):
        assert speccache.folder(spec_dir) == cache_folder
        with pytest.raises(RuntimeError, match="a warm run would be cold"):
            speccache.check_warm(spec_dir)

        _validate(spec_dir, tmp_path / "home")
        (written,) = [p for p in cache_folder.iterdir() if p.name != ".gitignore"]
        assert written == speccache.cache_file(spec_dir)
        speccache.check_warm(spec_dir)

        speccache.make_cold(spec_dir)
        assert not cache_folder.exists()
        with pytest.raises(RuntimeError, match="a warm run would be cold"):
            speccache.check_warm(spec_dir)
