"""Lead import benchmark: a realistic 1,000,000-row CSV, imported by ``dialer`` and by bare pandas.

    python bench/import_leads.py [--rows 1000000 [5000000 ...]] [--no-baseline] [--workdir DIR]

Generates the file (mixed number formats, duplicates, invalid rows, extra
columns), then in separate processes (so each peak memory is its own):

1. ``lists.importer.import_leads`` into a fresh SQLite store (normalisation,
   time zones, deduplication by the store, do-not-call, rejects file, batched commits);
2. the baseline: ``pandas.read_csv`` + ``DataFrame.to_sql`` of the same file.

Prints rows/s, peak memory (each process's own high-water mark, VmHWM) of each and the time
ratio. Several ``--rows`` sizes are imported one after the other (a fresh file and store each),
to compare peak memory across sizes; ``--no-baseline`` leaves out the pandas runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CITIES = ["Москва", "Санкт-Петербург", "Казань", "Новосибирск", "Екатеринбург", "Владивосток", "Тверь"]
NAMES = ["Иванов Иван", "Петрова Анна", "Сидоров Пётр", "Smith John", "Кузнецова Мария", "Попов Олег"]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Write the test list: 80% mobiles, 12% landlines, ~5% repeats, ~3% invalid, in six formats."""
    rng = np.random.default_rng(seed)
    mobile = rng.integers(900_000_0000, 999_999_9999, rows).astype(str)
    landline_codes = rng.choice(np.array(["495", "499", "812", "843", "383", "343", "423"]), rows)
    landline = np.char.add(landline_codes, rng.integers(200_0000, 999_9999, rows).astype(str))
    national = np.where(rng.random(rows) < 0.87, mobile, landline)
    # Repeat earlier numbers: the duplicates a merged list carries.
    repeats = rng.random(rows) < 0.05
    national[repeats] = national[rng.integers(0, rows, rows)][repeats]
    fmt = rng.integers(0, 6, rows)
    shapes = (
        lambda n: f"+7 {n[:3]} {n[3:6]}-{n[6:8]}-{n[8:]}",
        lambda n: f"8 ({n[:3]}) {n[3:6]}-{n[6:8]}-{n[8:]}",
        lambda n: n,
        lambda n: "7" + n,
        lambda n: f"7{n}.0",  # a spreadsheet's float
        lambda n: "+7" + n,
    )
    phones = np.array([shapes[f](n) for f, n in zip(fmt, national, strict=True)], dtype=object)
    invalid = rng.random(rows) < 0.03
    junk = np.array(["", "нет", "123-45", "7.91612E+10", "+7 916 123", "n/a", "0000000000"], dtype=object)
    phones[invalid] = rng.choice(junk, int(invalid.sum()))
    frame = pd.DataFrame(
        {
            "id": np.arange(1, rows + 1),
            "ФИО": rng.choice(np.array(NAMES, dtype=object), rows),
            "Телефон": phones,
            "Город": rng.choice(np.array(CITIES, dtype=object), rows),
            "email": np.char.add(np.char.add("user", np.arange(rows).astype(str)), "@example.ru"),
            "сумма": rng.integers(100, 100_000, rows),
            "комментарий": rng.choice(
                np.array(["", "перезвонить", "VIP; важно", 'цитата "да"'], dtype=object), rows
            ),
        }
    )
    frame.to_csv(path, sep=";", index=False, encoding="utf-8")


def run_import(csv_path: Path, db: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from campaigns.service import CampaignSpec, create_campaign
    from campaigns.store import open_store
    from lists.importer import ImportRequest, import_leads

    store = open_store(f"sqlite:///{db}")
    create_campaign(store, CampaignSpec.build("bench"))
    start = time.perf_counter()
    summary = import_leads(store, ImportRequest(csv_path, "bench"))
    elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "read": summary.read,
        "imported": summary.imported,
        "duplicates": summary.duplicates,
        "invalid": summary.invalid,
        "dnc": summary.dnc,
    }


def run_baseline(csv_path: Path, db: Path) -> dict[str, float]:
    from sqlalchemy import create_engine

    store = create_engine(f"sqlite:///{db}")
    start = time.perf_counter()
    frame = pd.read_csv(csv_path, sep=";", dtype=str, keep_default_na=False)
    frame.to_sql("leads", store, index=False)
    return {"seconds": time.perf_counter() - start, "read": len(frame)}


def own_peak_mb() -> float:
    """This process's own peak resident memory (``VmHWM``).

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: on Linux that survives ``fork`` and ``exec``, so a
    child started by this script after it generated the list reported the generator's memory
    (800 MB held by a parent showed as an 811 MB peak in a child whose own peak was 11 MB).
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: may overstate


def child(phase: str, csv_path: Path, db: Path) -> None:
    result = run_import(csv_path, db) if phase == "import" else run_baseline(csv_path, db)
    result["peak_mb"] = own_peak_mb()
    print(json.dumps(result))


def measure(phase: str, csv_path: Path, db: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, str(csv_path), str(db)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--no-baseline", action="store_true", help="Only the product's import.")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--phase", choices=["import", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args.phase, args.paths[0], args.paths[1])
        return
    for rows in args.rows:
        run_size(rows, args.workdir, baseline=not args.no_baseline)


def run_size(rows: int, workdir: Path | None, baseline: bool) -> None:
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        work = Path(tmp)
        csv_path = work / "leads.csv"
        start = time.perf_counter()
        generate(csv_path, rows)
        size_mb = csv_path.stat().st_size / 2**20
        print(f"generated {rows:,} rows ({size_mb:.0f} MB) in {time.perf_counter() - start:.1f} s")
        ours = measure("import", csv_path, work / "dialer.db")
        base = measure("baseline", csv_path, work / "baseline.db") if baseline else None
    print(
        f"{rows:,} rows: dialer lists import: {ours['seconds']:.1f} s, "
        f"{ours['read'] / ours['seconds']:,.0f} rows/s, peak {ours['peak_mb']:.0f} MB "
        f"(imported {ours['imported']:,.0f}, duplicates {ours['duplicates']:,.0f}, "
        f"invalid {ours['invalid']:,.0f})",
        flush=True,
    )
    if base is not None:
        print(
            f"pandas read_csv + to_sql: {base['seconds']:.1f} s, "
            f"{base['read'] / base['seconds']:,.0f} rows/s, peak {base['peak_mb']:.0f} MB"
        )
        print(f"ratio: {ours['seconds'] / base['seconds']:.2f}x the bare baseline")


if __name__ == "__main__":
    main()
