"""Measure an intermittent failure, find the condition behind it, and size the proof of a fix.

Four tools, all deterministic:

* a seeded simulation of a read-modify-write race between workers, where a
  scheduler decides at every step whether to switch workers, so the same
  seed always gives the same interleaving;
* the Wilson score interval for a failure rate measured as k failures in n runs;
* the number of clean runs needed before "zero failures" means the rate is
  below a target (the rule of three is its approximation), an interval for
  the ratio of two failure rates when a change only lowers the rate, and the
  number of failures such a comparison needs;
* a ranking of request attributes by how much their failure rate exceeds the
  rest of the traffic, with intervals, on synthetic request records in which
  the real cause (idle pooled connections outliving the server's keep-alive
  timeout) is confounded with night hours and with a deploy, with two guards
  against false suspects (a Bonferroni correction and a held-out half) and a
  chi-square test of the time-of-day pattern within each idle stratum.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from statistics import NormalDist

Z95 = 1.959964  # two-sided 95 % normal quantile


def run_interleaving(
    seed: int, switch_prob: float, window_steps: int = 0, workers: int = 2, atomic: bool = False
) -> bool:
    """Run workers that each add 1 to a shared counter; return True if none was lost.

    Each worker reads the counter, does ``window_steps`` steps of other work,
    then writes back what it read plus one. After every step the scheduler
    switches to another runnable worker with probability ``switch_prob``.
    With ``atomic=True`` the read and the write are one step (a lock or a
    compare-and-set), so no interleaving can lose an update.
    """
    rng = random.Random(seed)
    counter = 0
    program = ["increment"] if atomic else ["read"] + ["work"] * window_steps + ["write"]
    position = [0] * workers
    seen = [0] * workers
    current = rng.randrange(workers)
    while True:
        runnable = [w for w in range(workers) if position[w] < len(program)]
        if not runnable:
            break
        if current not in runnable:
            current = rng.choice(runnable)
        step = program[position[current]]
        if step == "increment":
            counter += 1
        elif step == "read":
            seen[current] = counter
        elif step == "write":
            counter = seen[current] + 1
        position[current] += 1
        others = [w for w in runnable if w != current and position[w] < len(program)]
        if others and rng.random() < switch_prob:
            current = rng.choice(others)
    return counter == workers


def measure(
    runs: int,
    seed: int = 0,
    switch_prob: float = 0.02,
    window_steps: int = 0,
    workers: int = 2,
    atomic: bool = False,
) -> int:
    """Run the interleaving ``runs`` times with consecutive seeds; return the failure count."""
    return sum(
        not run_interleaving(seed + i, switch_prob, window_steps, workers, atomic)
        for i in range(runs)
    )


def wilson_interval(failures: int, runs: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion; sound at 0 failures and at small n."""
    if runs <= 0:
        raise ValueError("runs must be positive")
    p = failures / runs
    denom = 1 + z * z / runs
    center = (p + z * z / (2 * runs)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs))
    return max(0.0, center - half), min(1.0, center + half)


def runs_needed(rate: float, confidence: float = 0.95) -> int:
    """Clean runs needed so that a failure rate of ``rate`` would have shown up at least once.

    Solves (1 - rate) ** n <= 1 - confidence. At 95 % this is close to 3 / rate,
    the rule of three.
    """
    if not 0 < rate < 1:
        raise ValueError("rate must be between 0 and 1")
    return math.ceil(math.log(1 - confidence) / math.log(1 - rate))


def upper_bound_after_clean_runs(runs: int, confidence: float = 0.95) -> float:
    """Highest failure rate still consistent with ``runs`` runs and zero failures."""
    return 1 - (1 - confidence) ** (1 / runs)


def rate_ratio(
    before_failures: int, before_runs: int, after_failures: int, after_runs: int, z: float = Z95
) -> tuple[float, float, float]:
    """After-to-before ratio of two failure rates, with an interval.

    For rare failures the counts behave like Poisson counts, and given the total
    number of failures, the share that fell after the change is binomial. A
    Wilson interval on that share, rescaled by the run counts, bounds the ratio.
    An interval wholly below 1 shows the change lowered the rate.
    """
    total = before_failures + after_failures
    if total == 0:
        raise ValueError("no failures on either side: use runs_needed instead")
    low, high = wilson_interval(after_failures, total, z)
    scale = before_runs / after_runs

    def to_ratio(share: float) -> float:
        return math.inf if share >= 1 else share / (1 - share) * scale

    before_rate = before_failures / before_runs
    ratio = (after_failures / after_runs) / before_rate if before_rate else math.inf
    return ratio, to_ratio(low), to_ratio(high)


def failures_to_compare(ratio: float, power: float = 0.8, z: float = Z95) -> int:
    """Failures needed, before and after together, to show a rate ratio below 1.

    With equal exposures on both sides, a true ratio r puts a share
    s = r / (1 + r) of the failures after the change; the interval on that share
    must stay below 1/2. The normal approximation gives
    (z + z_power)^2 * 4r / (1 - r)^2 failures in all for the given power.
    """
    if not 0 < ratio < 1:
        raise ValueError("ratio must be between 0 and 1")
    z_power = NormalDist().inv_cdf(power)
    return math.ceil((z + z_power) ** 2 * 4 * ratio / (1 - ratio) ** 2)


def chance_all_pass(rate: float, runs: int) -> float:
    """Probability that a bug failing at ``rate`` per run lets ``runs`` runs in a row pass."""
    return (1 - rate) ** runs


def clean_run_curves(
    rates: tuple[float, ...] = (0.10, 0.05, 0.02), max_runs: int = 200
) -> dict[float, list[tuple[int, float]]]:
    """For each failure rate, the chance of all-clean runs after 0 to ``max_runs`` runs."""
    return {
        rate: [(runs, chance_all_pass(rate, runs)) for runs in range(max_runs + 1)]
        for rate in rates
    }


@dataclass(frozen=True)
class Request:
    """One request log record: a few attributes and whether it failed."""

    attrs: dict[str, str]
    failed: bool


def idle_bucket(seconds: float) -> str:
    """Coarse bucket for how long the pooled connection sat idle before this request."""
    if seconds < 1:
        return "<1s"
    return "1-5s" if seconds < 5 else ">=5s"


def synthetic_requests(count: int = 20_000, seed: int = 7) -> list[Request]:
    """Two days of requests to a service behind a client-side connection pool.

    The server closes connections after 5 s idle; the client pool keeps them
    for 60 s. A request sent on a connection idle for 5 s or more goes to a
    connection the server has already closed; it fails when the pool has not
    yet acted on the server's close, which the simulation takes to happen half
    the time. Daytime (08:00 to 19:59) hours are six times as likely as night
    ones and leave connections idle for 0.6 s on average, against 4 s at
    night, so idle connections, and therefore failures, cluster at night;
    version v42 was deployed at 18:00 on the first day, so it also sees more
    night traffic. Everything else fails at 0.2 %.
    """
    rng = random.Random(seed)
    hours = [(day, hour) for day in (0, 1) for hour in range(24)]
    weights = [6 if 8 <= hour < 20 else 1 for _, hour in hours]
    requests = []
    for _ in range(count):
        day, hour = rng.choices(hours, weights)[0]
        mean_idle = 0.6 if 8 <= hour < 20 else 4.0
        idle = rng.expovariate(1 / mean_idle)
        failed = rng.random() < (0.5 if idle >= 5 else 0.002)
        attrs = {
            "host": f"web-{rng.randint(1, 6)}",
            "version": "v42" if (day, hour) >= (0, 18) else "v41",
            "hours": f"{hour // 6 * 6:02d}-{hour // 6 * 6 + 5:02d}",
            "conn_idle": idle_bucket(idle),
        }
        requests.append(Request(attrs, failed))
    return requests


@dataclass(frozen=True)
class Suspect:
    """Failure statistics for one attribute value against all other traffic."""

    attr: str
    value: str
    failures: int
    runs: int
    low: float
    high: float
    rest_high: float
    lift: float

    @property
    def separated(self) -> bool:
        """True when the value's interval lies wholly above the rest's interval."""
        return self.low > self.rest_high


def bonferroni_z(comparisons: int, alpha: float = 0.05) -> float:
    """Two-sided normal quantile that keeps ``alpha`` for the whole family of comparisons.

    Scanning many attribute values at 95 % each finds some "suspects" by chance;
    giving each comparison alpha / m instead bounds the chance of any false one.
    """
    return NormalDist().inv_cdf(1 - alpha / (2 * comparisons))


def comparisons(suspects: list[Suspect]) -> int:
    """Independent comparisons in a scan: one per value, but one for a two-valued attribute.

    With two values, "v42 against the rest" and "v41 against the rest" are the
    same comparison seen from both sides, so counting both overstates m.
    """
    per_attr: dict[str, int] = defaultdict(int)
    for s in suspects:
        per_attr[s.attr] += 1
    return sum(1 if n == 2 else n for n in per_attr.values())


def rank_suspects(requests: list[Request], z: float = Z95) -> list[Suspect]:
    """Rank every attribute value by the low end of its failure-rate interval."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    total_fail = sum(r.failed for r in requests)
    for r in requests:
        for attr, value in r.attrs.items():
            counts[(attr, value)][0] += r.failed
            counts[(attr, value)][1] += 1
    suspects = []
    for (attr, value), (k, n) in counts.items():
        rest_k, rest_n = total_fail - k, len(requests) - n
        if rest_n == 0:
            continue
        low, high = wilson_interval(k, n, z)
        rest_rate = rest_k / rest_n
        _, rest_high = wilson_interval(rest_k, rest_n, z)
        lift = (k / n) / rest_rate if rest_rate else math.inf
        suspects.append(Suspect(attr, value, k, n, low, high, rest_high, lift))
    return sorted(suspects, key=lambda s: -s.low)


def confirm_on_holdout(
    scan: list[Request], holdout: list[Request]
) -> tuple[list[str], list[str], float]:
    """Pick suspects on one sample, then keep those that are separated on another.

    The scan may test every value at plain 95 %; the confirmation tests only the
    few suspects it picked, corrected for their number, on records it never saw.
    """
    picked = [(s.attr, s.value) for s in rank_suspects(scan) if s.separated]
    z = bonferroni_z(len(picked))
    held = {(s.attr, s.value): s for s in rank_suspects(holdout, z)}
    confirmed = [key for key in picked if key in held and held[key].separated]
    return [f"{a}={v}" for a, v in picked], [f"{a}={v}" for a, v in confirmed], z


def rate_within(
    requests: list[Request], attr: str, condition: tuple[str, str]
) -> dict[tuple[bool, str], tuple[int, int]]:
    """Failures and runs per value of ``attr``, split by whether ``condition`` holds.

    Stratifying by the leading suspect shows whether a second attribute still
    matters once the first is held fixed, or was only riding along with it.
    """
    table: dict[tuple[bool, str], list[int]] = defaultdict(lambda: [0, 0])
    cond_attr, cond_value = condition
    for r in requests:
        key = (r.attrs[cond_attr] == cond_value, r.attrs[attr])
        table[key][0] += r.failed
        table[key][1] += 1
    return {key: (k, n) for key, (k, n) in sorted(table.items())}


def chi_square(cells: list[tuple[int, int]], min_expected: float = 5) -> tuple[float, int]:
    """Pearson's chi-square for equal failure rates across bins: (statistic, degrees of freedom).

    Each cell is (failures, runs). Under one common rate a bin expects
    runs * rate failures; bins expecting fewer than ``min_expected`` are left
    out (by their size, never by their outcome), since the test needs them.
    """
    rate = sum(k for k, _ in cells) / sum(n for _, n in cells)
    kept = [(k, n) for k, n in cells if n * rate >= min_expected]
    rate = sum(k for k, _ in kept) / sum(n for _, n in kept)
    statistic = 0.0
    for k, n in kept:
        expect_fail, expect_pass = n * rate, n * (1 - rate)
        statistic += (k - expect_fail) ** 2 / expect_fail + (n - k - expect_pass) ** 2 / expect_pass
    return statistic, len(kept) - 1


def main() -> None:
    """Measure the race, amplify it, check the fix, and rank suspects in request logs."""
    runs = 3000
    base = measure(runs, switch_prob=0.02)
    lo, hi = wilson_interval(base, runs)
    print(
        f"race as shipped: {base}/{runs} runs lost an update, "
        f"rate {base / runs:.2%} (95 % interval {lo:.2%} to {hi:.2%})"
    )
    print(
        "clean streaks of the unfixed race, from seeds 0, 500, 1000, 1500: "
        + ", ".join(str(_clean_streak(start)) for start in (0, 500, 1000, 1500))
    )
    need = runs_needed(lo)
    point, rule = runs_needed(base / runs), math.ceil(3 / lo)
    print(
        f"clean runs to trust a fix at the low end {lo:.2%}: {need}\n"
        f"  (at the point estimate: {point}; rule of three: {rule})"
    )

    amp = measure(200, switch_prob=0.02, window_steps=49)
    amp_lo, amp_hi = wilson_interval(amp, 200)
    print(
        f"\nwindow widened by 49 steps: {amp}/200 fail, interval {amp_lo:.0%} to {amp_hi:.0%}\n"
        f"  (predicted 1 - 0.98^50 = {1 - 0.98**50:.0%}); "
        f"clean runs to trust a fix: {runs_needed(amp_lo)}"
    )

    fixed = measure(need, seed=10_000, switch_prob=0.02, atomic=True)
    fixed_amp = measure(200, seed=10_000, switch_prob=0.02, window_steps=49, atomic=True)
    print(
        f"atomic increment: {fixed}/{need} fail as shipped, {fixed_amp}/200 amplified; "
        f"rate now below {upper_bound_after_clean_runs(need):.2%} (95 %)"
    )

    print("\na change that halves the switch rate, compared with the race as shipped:")
    for n in (300, 3000):
        before = measure(n, switch_prob=0.02)
        after = measure(n, seed=20_000, switch_prob=0.01)
        ratio, r_lo, r_hi = rate_ratio(before, n, after, n)
        print(
            f"  {n:>5} runs each: {before} before, {after} after; "
            f"rate ratio {ratio:.2f} (95 % interval {r_lo:.2f} to {r_hi:.2f})"
        )
    print(
        "  failures needed in all to show a ratio with 80 % power: "
        + ", ".join(f"{r} -> {failures_to_compare(r)}" for r in (0.5, 0.8))
    )

    print("\nsuspects in 20,000 request records (failures, rate, 95 % interval, lift):")
    requests = synthetic_requests()
    for s in rank_suspects(requests)[:6]:
        mark = "separated" if s.separated else "overlaps the rest"
        print(
            f"  {s.attr + '=' + s.value:<15} {s.failures:4d}/{s.runs:<6} "
            f"{s.failures / s.runs:6.2%} [{s.low:6.2%}, {s.high:6.2%}] "
            f"lift {s.lift:5.1f}  {mark}"
        )
    scanned = rank_suspects(requests)
    m = comparisons(scanned)
    z = bonferroni_z(m)
    kept = [f"{s.attr}={s.value}" for s in rank_suspects(requests, z) if s.separated]
    print(f"  corrected for {m} comparisons, {len(scanned)} values (Bonferroni, z = {z:.2f}):")
    print(f"    still separated: {', '.join(kept)}")
    picked, confirmed, hz = confirm_on_holdout(requests[:10_000], requests[10_000:])
    print(f"  picked on the first 10,000 records: {', '.join(picked)}")
    print(f"    confirmed on the other 10,000 (z = {hz:.2f}): {', '.join(confirmed)}")
    print("\nversion, split by conn_idle >= 5 s:")
    split = rate_within(requests, "version", ("conn_idle", ">=5s"))
    for (inside, version), (k, n) in split.items():
        label = "idle >= 5 s" if inside else "idle <  5 s"
        print(f"  {label} {version}: {k}/{n} = {k / n:.2%}")
    print("\nhour bands, split by conn_idle >= 5 s (chi-square over bands expecting 5+ failures):")
    bands = rate_within(requests, "hours", ("conn_idle", ">=5s"))
    names = sorted({band for _, band in bands})
    below = [bands.get((False, b), (0, 0)) for b in names]
    above = [bands.get((True, b), (0, 0)) for b in names]
    strata = {
        "all requests": [
            (k1 + k2, n1 + n2) for (k1, n1), (k2, n2) in zip(below, above, strict=True)
        ],
        "idle <  5 s": below,
        "idle >= 5 s": above,
    }
    for label, cells in strata.items():
        shown = ", ".join(f"{b} {k}/{n}" for b, (k, n) in zip(names, cells, strict=True))
        statistic, df = chi_square(cells)
        print(f"  {label}: {shown}; chi-square {statistic:.1f} on {df} df")


def _clean_streak(start: int) -> int:
    """Consecutive passing runs of the shipped race starting at seed ``start``."""
    streak = 0
    while run_interleaving(start + streak, switch_prob=0.02):
        streak += 1
    return streak


if __name__ == "__main__":
    main()
