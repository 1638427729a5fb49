"""The small fleet of benches/scenarios/small-fleet.toml, written in SimPy.

It models what patchfleet does for that scenario, with the same events:
- Catalog: Poisson advisory streams (rates, reboot shares and install-time ranges read from
  the scenario file) over the backlog and the horizon; each patch fixes one package drawn
  uniformly from the catalog's packages. One Release-time approval per patch, at release
  plus ApproveAfterDays rounded up to 00:00 UTC, as one event that sets the patch's bit.
- Fleet: every profile's 16 package mixes (core packages plus a share of the rest), each
  instance drawing one; its initial patches are the applicable ones released before the
  start minus its initial lag. Bitsets are Python integers, so a Scan is
  `approved & applicable & ~installed` and a popcount, as in patchfleet.
- Each scan association fires daily as one process step that scans its targets in order and
  replaces each one's report in the per-patch-group counters (subtract old, add new).
- Each maintenance window fires weekly: an execution resolves its targets, dispatches them
  in instance order while MaxConcurrency slots are free, the MaxErrors threshold is not
  passed and the cutoff has not come; each invocation is one SimPy process that plans the
  Install (missing approved patches, a failure draw per patch, install overhead plus install
  times plus a reboot if anything was installed or pending), waits its duration and applies
  the result and the report.
- A sample every sample_interval snapshots the counters and counts the truth over the fleet.
- At the end it writes compliance.csv (one row per sample, patch group and metric) and
  windows.csv (one row per execution) into the output directory.

It does not reproduce patchfleet's random streams, so its figures agree with patchfleet's
in kind and magnitude, not bit for bit; what it reproduces is the work: the same number of
scans, invocations, approvals and samples over the same fleet.

Usage: python small_fleet.py SCENARIO.toml OUT_DIR
"""

import csv
import datetime as dt
import math
import os
import random
import sys
import tomllib

import simpy

DAY = 86_400


def seconds(text):
    """A patchfleet duration (`90s`, `3m`, `1h30m`, `60d`) in seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": DAY}
    total, number = 0, ""
    for char in text:
        if char.isdigit():
            number += char
        else:
            total += int(number) * units[char]
            number = ""
    return total


def weekly_fires(cron, start, end):
    """Fire instants of `cron(M H ? * DAY *)` or `cron(M H * * ? *)` between start and end."""
    minute, hour, _, _, weekday, _ = cron[len("cron("):-1].split()
    days = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
    t = start - start % DAY
    out = []
    while t < end:
        at = t + int(hour) * 3600 + int(minute) * 60
        day = dt.datetime.fromtimestamp(t, dt.timezone.utc).weekday()
        if start <= at < end and (weekday == "?" or days[day] == weekday):
            out.append(at)
        t += DAY
    return out


def percent_of(value, count):
    if value.endswith("%"):
        return math.ceil(count * float(value[:-1]) / 100)
    return int(value)


class Catalog:
    def __init__(self, spec, start, end, rng):
        generator = spec["generator"]
        first = start - seconds(generator["backlog"])
        self.packages = spec["packages"]
        self.core = spec["core_packages"]
        self.released, self.package, self.reboot, self.install_s = [], [], [], []
        for stream in generator["stream"]:
            rate = stream["per_week"] / (7 * DAY)
            t = first
            while True:
                t += rng.expovariate(rate)
                if t >= end:
                    break
                low, high = (seconds(x) for x in stream["install_duration"])
                self.released.append(int(t))
                self.package.append(rng.randrange(self.packages))
                self.reboot.append(rng.random() < stream.get("reboot_share", 0.0))
                self.install_s.append(rng.randint(low, high))
        order = sorted(range(len(self.released)), key=lambda p: self.released[p])
        for name in ("released", "package", "reboot", "install_s"):
            values = getattr(self, name)
            setattr(self, name, [values[p] for p in order])
        self.reboot_mask = sum(1 << p for p, r in enumerate(self.reboot) if r)

    def mixes(self, share, count, rng):
        out = []
        for _ in range(count):
            have = set(range(self.core)) | {p for p in range(self.core, self.packages) if rng.random() < share}
            out.append(sum(1 << p for p, package in enumerate(self.package) if package in have))
        return out

    def released_before(self, t):
        return sum(1 << p for p, r in enumerate(self.released) if r < t)


class Fleet:
    """Per-instance state as parallel lists, as patchfleet's struct of arrays."""

    def __init__(self, scenario, catalog, start, rng):
        profile = scenario["profile"][0]
        mixes = catalog.mixes(profile["package_share"], profile.get("mixes", 16), rng)
        self.group, self.patch_group, self.shard = [], [], []
        self.applicable, self.installed, self.pending, self.report = [], [], [], []
        self.failure = []
        for group in scenario["instance_group"]:
            lag, spread = seconds(group["initial_lag"]), seconds(group["initial_lag_spread"])
            for _ in range(group["count"]):
                mix = mixes[rng.randrange(len(mixes))]
                level = start - lag - rng.randrange(spread + 1)
                self.patch_group.append(group["tags"]["Patch Group"])
                self.shard.append(group["tags"]["Shard"])
                self.applicable.append(mix)
                self.installed.append(mix & catalog.released_before(level))
                self.pending.append(0)
                self.report.append(None)
                self.failure.append(group["install_failure_probability"])


class Model:
    def __init__(self, scenario):
        settings = scenario["scenario"]
        self.start = int(settings["start"].timestamp())
        self.end = self.start + seconds(settings["horizon"])
        self.rng = random.Random(settings["seed"])
        self.agent = {k: seconds(v) for k, v in scenario["agent"].items() if isinstance(v, str)}
        self.catalog = Catalog(scenario["catalog"][0], self.start, self.end, self.rng)
        self.fleet = Fleet(scenario, self.catalog, self.start, self.rng)
        self.groups = sorted({g["name"] for g in scenario["patch_group"]})
        self.counters = {g: [0, 0, self.fleet.patch_group.count(g), 0, 0, 0] for g in self.groups}
        after = scenario["baseline"][0]["rule"][0]["approve_after_days"]
        self.approve_at = [math.ceil((r + after * DAY) / DAY) * DAY for r in self.catalog.released]
        self.approved = sum(1 << p for p, at in enumerate(self.approve_at) if at <= self.start)
        self.scenario = scenario
        self.samples, self.executions = [], []
        self.env = simpy.Environment(initial_time=self.start)

    # Counters per patch group: compliant, non-compliant, unreported, missing, failed, pending.
    def set_report(self, instance, report):
        counters = self.counters[self.fleet.patch_group[instance]]
        for sign, r in ((-1, self.fleet.report[instance]), (1, report)):
            if r is None:
                counters[2] += sign
                continue
            missing, failed, pending = r
            counters[0 if missing + failed + pending == 0 else 1] += sign
            counters[3] += sign * missing
            counters[4] += sign * failed
            counters[5] += sign * pending
        self.fleet.report[instance] = report

    def evaluate(self, instance, approved, installed, failed, pending):
        missing = approved & self.fleet.applicable[instance] & ~installed & ~failed
        return (missing.bit_count(), failed.bit_count(), pending.bit_count())

    def approval(self, patch):
        yield self.env.timeout(self.approve_at[patch] - self.env.now)
        self.approved |= 1 << patch

    def association(self, schedule, targets):
        for at in weekly_fires(schedule, self.start, self.end):
            yield self.env.timeout(at - self.env.now)
            approved = self.approved
            for instance in targets:
                f = self.fleet
                self.set_report(instance, self.evaluate(instance, approved, f.installed[instance], 0, f.pending[instance]))

    def window(self, spec):
        task = spec["task"][0]
        group = spec["targets"][0].split("=", 1)[1]
        for at in weekly_fires(spec["schedule"], self.start, self.end):
            yield self.env.timeout(at - self.env.now)
            targets = [i for i, g in enumerate(self.fleet.patch_group) if g == group]
            self.env.process(self.execution(spec, task, targets))

    def execution(self, spec, task, targets):
        started = self.env.now
        cutoff = started + (spec["duration_hours"] - spec["cutoff_hours"]) * 3600
        slots = simpy.Resource(self.env, capacity=percent_of(task["max_concurrency"], len(targets)))
        max_errors = percent_of(task["max_errors"], len(targets))
        state = {"errors": 0, "done": 0, "failed": 0, "running": []}
        approved = self.approved  # the execution's snapshot
        for instance in targets:
            request = slots.request()
            yield request
            if state["errors"] > max_errors or self.env.now >= cutoff:
                slots.release(request)
                break
            state["running"].append(self.env.process(self.invoke(instance, approved, slots, request, state)))
        yield simpy.AllOf(self.env, state["running"])
        status = "FAILED" if state["errors"] > max_errors else "SUCCESS"
        self.executions.append((spec["name"], started, self.env.now, status, state["done"], state["failed"]))

    def invoke(self, instance, approved, slots, request, state):
        f, c = self.fleet, self.catalog
        missing = approved & f.applicable[instance] & ~f.installed[instance]
        newly, failed, duration = 0, 0, self.agent["install_overhead"]
        while missing:
            low = missing & -missing
            patch = low.bit_length() - 1
            missing ^= low
            duration += c.install_s[patch]
            if self.rng.random() < f.failure[instance]:
                failed |= low
            else:
                newly |= low
        reboot = newly != 0 or f.pending[instance] != 0
        if reboot:
            duration += self.agent["reboot_duration"]
        yield self.env.timeout(duration)
        f.installed[instance] |= newly
        f.pending[instance] = 0
        self.set_report(instance, self.evaluate(instance, approved, f.installed[instance], failed, 0))
        state["done"] += 1
        if failed:
            state["failed"] += 1
            state["errors"] += 1
        slots.release(request)

    def sample(self):
        interval = seconds(self.scenario["scenario"]["sample_interval"])
        while self.env.now < self.end:
            truth = {g: [0, 0] for g in self.groups}
            f, reboot = self.fleet, self.catalog.reboot_mask
            approved = self.approved
            for i, group in enumerate(f.patch_group):
                missing = (approved & f.applicable[i] & ~f.installed[i]).bit_count() + (f.pending[i] & reboot).bit_count()
                truth[group][0 if missing == 0 else 1] += 1
            self.samples.append((self.env.now, {g: list(self.counters[g]) + truth[g] for g in self.groups}))
            yield self.env.timeout(interval)

    def run(self):
        for patch, at in enumerate(self.approve_at):
            if self.start < at < self.end:
                self.env.process(self.approval(patch))
        for spec in self.scenario["association"]:
            shard = spec["targets"][0].split("=", 1)[1]
            targets = [i for i, s in enumerate(self.fleet.shard) if s == shard]
            self.env.process(self.association(spec["schedule"], targets))
        for spec in self.scenario["maintenance_window"]:
            self.env.process(self.window(spec))
        self.env.process(self.sample())
        self.env.run(until=self.end)

    def write(self, out):
        os.makedirs(out, exist_ok=True)
        names = ["compliant", "non_compliant", "unreported", "missing_patches", "failed_patches",
                 "pending_reboot_patches", "true_compliant", "true_non_compliant"]
        iso = lambda t: dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        with open(os.path.join(out, "compliance.csv"), "w", newline="") as file:
            w = csv.writer(file)
            w.writerow(["time", "patch_group", "metric", "value"])
            for t, groups in self.samples:
                for g, values in groups.items():
                    for name, value in zip(names, values):
                        w.writerow([iso(t), g, name, value])
        with open(os.path.join(out, "windows.csv"), "w", newline="") as file:
            w = csv.writer(file)
            w.writerow(["window", "start", "end", "status", "invocations", "failed"])
            for name, start, end, status, done, failed in self.executions:
                w.writerow([name, iso(start), iso(end), status, done, failed])


def main():
    scenario_path, out = sys.argv[1], sys.argv[2]
    with open(scenario_path, "rb") as file:
        scenario = tomllib.load(file)
    model = Model(scenario)
    model.run()
    model.write(out)


if __name__ == "__main__":
    main()
