#!/usr/bin/python3
"""Regenerate the version-comparison oracle fixtures of warden-vulndb.

Writes crates/vulndb/tests/fixtures/versions/{dpkg,rpm}_pairs.txt: one
`A B sign` line per pair (sign is -1, 0 or 1), where the sign comes from the
real tools:
  - dpkg: python3-apt's apt_pkg.version_compare (apt's debVersioningSystem),
    cross-checked on a sample with `dpkg --compare-versions`;
  - rpm: rpm's own Lua `rpm.vercmp(a, b)` (rpmverParse + rpmverCmp), run
    through `rpm --eval`.

Version pool (real data, see README.md next to the fixtures):
  - Debian bookworm OVAL `<evr ... operation="less than">` values, with the
    package each one belongs to (criterion comments "PKG DPKG is earlier than V");
  - this machine's `dpkg-query -W -f '${Version}\\n'`;
  - Alpine secdb secfixes versions (rpm pool only), per package;
  - crafted edge cases (~, ^, epochs, long numbers, empty release, ...).

Pairs are built so that they share prefixes: neighbours of the sorted pool,
versions of the same package, small mutations of a real version, and a
minority of random pairs. Deterministic (fixed seed). Needs /usr/bin/python3
with apt_pkg (Debian: python3-apt), dpkg and rpm (apt-get install rpm).

Usage: /usr/bin/python3 scripts/version-oracle-pairs.py [--out DIR]
"""
import argparse
import bz2
import glob
import json
import os
import random
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = "/work/shared/data/vuln"
OVAL = f"{DATA}/debian/oval/oval-definitions-bookworm.xml.bz2"
SECDB = f"{DATA}/alpine/secdb"
TARGET = 25000

CRAFTED = [
    "0", "00", "0.0", "1", "1.0", "1.00", "1.0.0", "1.0~rc1", "1.0~rc1~1", "1.0~", "1.0~~", "1.0~~a", "1.0+",
    "1.0a", "1.0.a", "1.0-1", "1.0-0", "1.0-1~bpo1", "1.0-1+deb12u1", "1.0-1+b1", "1:1.0", "0:1.0", "2:0.1",
    "10:1", "1:1.0-1", "1.0-1-1", "1.0-a-b", "1.0+dfsg-1", "1.0~dfsg-1", "1.0.1-1", "1.01", "1.001", "1.1",
    "99999999999999999999999999", "99999999999999999999999998", "000000000000000000000000001", "1.0^", "1.0^git1",
    "1.0^git2", "1.0~rc1^git1", "1.0~rc1^git2", "1.0^20160101", "1.0^20160101^git1", "1.0^git1~pre", "1.0.1",
    "1.0-", "1:1.0-", "5.5p1", "5.5p10", "5.5.p1", "10xyz", "10.1xyz", "xyz10", "xyz10.1", "xyz.4", "8", "a+", "a_",
    "+a", "_a", "2.0.1a", "1b.fc17", "1g.fc17", "1.fc17", "4.18.0-513.el8", "4.18.0-513.5.1.el8_9",
    "4.18.0-513.el8_9", "1:2.3.4-5.el9_2", "2:8.2.2637-20.el9_1", "1.2.3-r0", "1.2.3-r10", "1.2.3_rc1-r0",
    "1.2.3_p1-r0", "2.4.57-2", "2.4.57-2+deb12u1", "1:9.18.19-1~deb12u1", "7.88.1-10+deb12u5", "2.36-9+deb12u4",
    "1.0.2k", "1.0.2za", "1.1.1w", "3.0.11-1~deb12u2", "20230311", "20230311.1", "0.0~git20230101.abcdef-1",
    "1.0+really0.9-1", "1.0~beta1+dfsg", "1.0~beta1", "1.0~beta1a", "1.0~alpha", "1.0~~alpha",
]


def oval_versions():
    """(package, version) pairs from the bookworm OVAL, plus the bare evr values."""
    text = bz2.open(OVAL, "rt", encoding="utf-8").read()
    pkgs = re.findall(r'comment="(\S+) DPKG is earlier than (\S+)"', text)
    evrs = re.findall(r'<evr datatype="debian_evr_string" operation="less than">([^<]*)</evr>', text)
    return pkgs, evrs


def dpkg_installed():
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n"], capture_output=True, text=True)
    return [tuple(line.split(" ", 1)) for line in out.stdout.splitlines() if " " in line]


def alpine_versions():
    pairs = []
    for path in sorted(glob.glob(f"{SECDB}/*/*.json")):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for p in doc.get("packages", []):
            pkg = p.get("pkg", {})
            for v in pkg.get("secfixes", {}) or {}:
                pairs.append((pkg.get("name", "?"), v))
    return pairs


def usable(v):
    return v and not any(c.isspace() for c in v) and v.isprintable()


def mutations(v, rng):
    """Small edits of a real version: they share its prefix, which is what exercises a comparator."""
    out = [v + "~rc1", v + "+deb12u1", v + ".1", v + "a", v + "^git1", v + "-1", "1:" + v, v + "~", v + "0"]
    digits = [i for i, c in enumerate(v) if c.isdigit()]
    if digits:
        i = rng.choice(digits)
        out.append(v[:i] + str((int(v[i]) + 1) % 10) + v[i + 1:])
        out.append(v[:i] + "0" + v[i:])
    if len(v) > 2:
        out.append(v[: rng.randrange(1, len(v))])
    return [m for m in out if usable(m)]


def build_pairs(by_pkg, pool, rng, target):
    pool = sorted(set(pool))
    pairs = []
    # 1. Versions of the same package: neighbours in every sort, and all pairs of small groups.
    for vs in by_pkg.values():
        vs = sorted(set(vs))
        if len(vs) <= 12:
            pairs += [(a, b) for i, a in enumerate(vs) for b in vs[i + 1:]]
        else:
            pairs += list(zip(vs, vs[1:])) + list(zip(vs, vs[2:]))
    # 2. Neighbours of the sorted pool (shared prefixes across packages).
    pairs += list(zip(pool, pool[1:])) + list(zip(pool, pool[3:]))
    # 3. Mutations of real versions, and crafted cases against each other and against real versions.
    for v in rng.sample(pool, min(len(pool), 2500)):
        for m in mutations(v, rng)[:4]:
            pairs.append((v, m) if rng.random() < 0.5 else (m, v))
    crafted = [c for c in CRAFTED if usable(c)]
    pairs += [(a, b) for a in crafted for b in crafted if a != b and rng.random() < 0.35]
    # 4. Identical versions and a minority of random pairs.
    pairs += [(v, v) for v in rng.sample(pool, min(len(pool), 300))]
    pairs += [(rng.choice(pool), rng.choice(pool)) for _ in range(2000)]
    seen, unique = set(), []
    pairs = [(b, a) if rng.random() < 0.5 else (a, b) for a, b in pairs]
    for a, b in pairs:
        if usable(a) and usable(b) and (a, b) not in seen:
            seen.add((a, b))
            unique.append((a, b))
    rng.shuffle(unique)
    return unique[:target]


def sign(x):
    return (x > 0) - (x < 0)


def dpkg_oracle(pairs):
    import apt_pkg

    apt_pkg.init_system()
    res = [sign(apt_pkg.version_compare(a, b)) for a, b in pairs]
    # Cross-check apt_pkg against dpkg itself on a sample. dpkg exits 2 on versions its parseversion rejects
    # (e.g. an empty revision `1.0-`): apt_pkg still orders those, and so does Warden, so they stay in the
    # fixture but cannot be cross-checked against dpkg.
    rng = random.Random(7)
    ops = {-1: "lt", 0: "eq", 1: "gt"}
    checked = 0
    for i in rng.sample(range(len(pairs)), 200):
        a, b = pairs[i]
        rc = subprocess.run(["dpkg", "--compare-versions", a, ops[res[i]], b], capture_output=True).returncode
        if rc == 1:
            sys.exit(f"apt_pkg and dpkg disagree on {a} {b}")
        checked += rc == 0
    print(f"dpkg --compare-versions agrees with apt_pkg on {checked} sampled pairs", file=sys.stderr)
    return res


def rpm_oracle(pairs):
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "in.txt"), os.path.join(tmp, "out.txt")
        with open(src, "w", encoding="utf-8") as f:
            f.writelines(f"{a} {b}\n" for a, b in pairs)
        lua = (
            "%{lua: local o = io.open('" + dst + "', 'w') "
            "for l in io.lines('" + src + "') do local a, b = l:match('(%S+)%s+(%S+)') "
            "o:write(a .. ' ' .. b .. ' ' .. rpm.vercmp(a, b) .. '\\n') end o:close()}"
        )
        subprocess.run(["rpm", "--eval", lua], check=True, capture_output=True)
        with open(dst, encoding="utf-8") as f:
            lines = [line.split() for line in f]
    if len(lines) != len(pairs):
        sys.exit(f"rpm produced {len(lines)} results for {len(pairs)} pairs")
    for (a, b), (ra, rb, _) in zip(pairs, lines):
        assert (a, b) == (ra, rb), (a, b, ra, rb)
    return [sign(int(x[2])) for x in lines]


def write(path, pairs, signs):
    with open(path, "w", encoding="utf-8") as f:
        for (a, b), s in zip(pairs, signs):
            f.write(f"{a} {b} {s}\n")
    print(f"{path}: {len(pairs)} pairs", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "crates/vulndb/tests/fixtures/versions"))
    args = ap.parse_args()
    rng = random.Random(20240601)

    oval_pkgs, oval_evrs = oval_versions()
    installed = dpkg_installed()
    alpine = alpine_versions()

    deb_by_pkg = {}
    for p, v in oval_pkgs + installed:
        deb_by_pkg.setdefault(p, []).append(v)
    deb_pool = oval_evrs + [v for _, v in oval_pkgs] + [v for _, v in installed] + CRAFTED
    dpkg_pairs = build_pairs(deb_by_pkg, deb_pool, rng, TARGET)
    write(os.path.join(args.out, "dpkg_pairs.txt"), dpkg_pairs, dpkg_oracle(dpkg_pairs))

    rpm_by_pkg = dict(deb_by_pkg)
    for p, v in alpine:
        rpm_by_pkg.setdefault("apk:" + p, []).append(v)
    rpm_pool = deb_pool + [v for _, v in alpine]
    rpm_pairs = build_pairs(rpm_by_pkg, rpm_pool, rng, TARGET)
    write(os.path.join(args.out, "rpm_pairs.txt"), rpm_pairs, rpm_oracle(rpm_pairs))


if __name__ == "__main__":
    main()
