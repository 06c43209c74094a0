"""MIL-STD-105E / ANSI/ASQ Z1.4 / ISO 2859-1 tables for single sampling by attributes.

Data only; :mod:`labelops.quality.sampling` reads them. The grids are typed as the
standard prints them: one row per sample size code letter, one column per AQL, and in
each cell either ``Ac/Re`` (acceptance / rejection number), ``v`` (use the first plan
below the arrow), ``^`` (use the first plan above the arrow) or ``-`` (a cell the
standard leaves empty because no arrow can lead to it).

Sources and choices (read before changing a cell):

* Table I (code letters) is MIL-STD-105E Table I.
* Tables II-A / II-B / II-C follow the published structure of MIL-STD-105E: along each
  diagonal (one row down, one column left) the cell repeats; in II-A each row reads
  ``0/1, ^, v, 1/2, 2/3, 3/4, 5/6, 7/8, 10/11, 14/15, 21/22, 30/31, 44/45``; rows A-E
  (n <= 13) run to ``44/45`` (or the last column), rows F-R (n >= 20) stop at ``21/22``
  (arrows up beyond); II-B (tightened) has the ``0/1`` one column to the right, two ``v``
  cells before ``1/2`` and the series ``1/2, 2/3, 3/4, 5/6, 8/9, 12/13, 18/19, 27/28,
  41/42``, rows F-R stopping at ``18/19``; II-C (reduced) keeps the arrows of II-A with
  the reduced sample sizes and the 105E reduced pairs with a gap between Ac and Re
  (``0/2, 1/3, 1/4, 2/5, 3/6, 5/8, 7/10, 10/13, 14/17, 21/24``), rows F-R stopping at
  ``10/13``: a count strictly between Ac and Re accepts the lot but reinstates normal
  inspection (the reduced-to-normal switching rule; ISO 2859-1:1999 dropped the gap).
* II-B row A, AQL 10 is ``v`` (printed so in 105E, not ``0/1`` as the diagonal would
  suggest); II-B has the extra row S (n = 3150) reached only from row R.
* Some printed arrows point off the table: II-A row A at AQL 10 (``^``), II-A row R
  at 0.015 (``v``), II-B row S at 0.015 (``v``), II-C row A at 10 and row R at 0.015.
  :func:`labelops.quality.sampling.find_sampling_plan` resolves them and says how.

Verification (2026-11, cell by cell, every code letter x AQL of the three tables, after
following the arrows): against the resolved plans ``(n, Ac, Re)`` of the R package
AQLSchemes by J. S. Lawson (``R/AAZ14Single.R``, read in the GitHub copy
``fjgonzalezmgt/AQLSchemesCust`` at commit c42ea7df9abdbc5d57b014cf5a5b3fb868cf98b0),
and for II-A against the row-by-row text of the 105E "legible copy" (scribd 563507790,
"Tablas"; also scribd 455925809 and zh.scribd 339359187) and NIBS' 105E extract
(www.nibs.org/FMOC/DPW_AC/AC-TABLE.ASC, AQL 0.65-15, II-A and II-B).

* All of II-A and II-B agree, except the off-table arrows above (AQLSchemes resolves
  II-A A/10 to C's 1/2, n = 5, and II-A/B/C R/0.015 upwards; those are readings of an
  arrow with no plan, not table cells).
* Fixed after that check: row F held ``30/31, 44/45`` (II-A), ``27/28, 41/42`` (II-B)
  and ``14/17, 21/24`` (II-C) at AQL 100 and 150. For II-A all four sources have row F
  end at ``21/22`` (up arrows beyond); for II-B and II-C AQLSchemes resolves F/100 and
  F/150 to row E's plans, the same layout. So F, AQL 100 now gives E's plan (n = 13 on
  normal, 21/22) instead of n = 20, Ac = 30.
* II-C rows C-R agree, except at AQL 1000, where AQLSchemes has ``30/31`` for every
  letter (not a 105E reduced pair). II-C rows A and B at AQL 25 and above are NOT
  confirmed: the
  only machine-readable source disagrees, but is inconsistent with itself (pairs such as
  ``2/4`` and ``3/5`` that are in no 105E series, and ``30/31`` for every letter at AQL
  1000), so the cells here keep the diagonal rule that every other row obeys.
* II-B row S: its ``1/2`` (n = 3150) is confirmed as the plan reached from rows Q and R at
  AQL 0.025; its ``v`` at 0.015 is reached only from R/0.015 and could not be confirmed.
"""

from __future__ import annotations

__all__ = [
    "AQL_LABELS",
    "CODE_LETTERS",
    "GENERAL_LEVELS",
    "LEVELS",
    "LOT_SIZE_UPPER_BOUNDS",
    "MASTER_TABLES",
    "SPECIAL_LEVELS",
    "TABLE_I",
]

AQL_LABELS: tuple[str, ...] = (
    "0.010",
    "0.015",
    "0.025",
    "0.040",
    "0.065",
    "0.10",
    "0.15",
    "0.25",
    "0.40",
    "0.65",
    "1.0",
    "1.5",
    "2.5",
    "4.0",
    "6.5",
    "10",
    "15",
    "25",
    "40",
    "65",
    "100",
    "150",
    "250",
    "400",
    "650",
    "1000",
)
"""The AQL series of the standard, tightest first (percent nonconforming up to 10,
nonconformities per 100 items above)."""

CODE_LETTERS: tuple[str, ...] = tuple("ABCDEFGHJKLMNPQR")
"""Sample size code letters of Table I (I and O are not used)."""

SPECIAL_LEVELS: tuple[str, ...] = ("S-1", "S-2", "S-3", "S-4")
GENERAL_LEVELS: tuple[str, ...] = ("I", "II", "III")
LEVELS: tuple[str, ...] = (*SPECIAL_LEVELS, *GENERAL_LEVELS)
"""Inspection levels in the column order of Table I."""

LOT_SIZE_UPPER_BOUNDS: tuple[int | None, ...] = (
    8,
    15,
    25,
    50,
    90,
    150,
    280,
    500,
    1200,
    3200,
    10000,
    35000,
    150000,
    500000,
    None,
)
"""Upper bound of each lot-size row of Table I (the first row starts at 2; None = and over)."""

# Table I: lot size row -> code letter per level, columns S-1 S-2 S-3 S-4 I II III.
_TABLE_I_TEXT = """\
2-8             A A A A  A A B
9-15            A A A A  A B C
16-25           A A B B  B C D
26-50           A B B C  C D E
51-90           B B C C  C E F
91-150          B B C D  D F G
151-280         B C D E  E G H
281-500         B C D E  F H J
501-1200        C C E F  G J K
1201-3200       C D E G  H K L
3201-10000      C D F G  J L M
10001-35000     C D F H  K M N
35001-150000    D E G J  L N P
150001-500000   D E G J  M P Q
500001-         D E H K  N Q R
"""

TABLE_I: tuple[dict[str, str], ...] = tuple(
    dict(zip(LEVELS, line.split()[1:], strict=True))
    for line in _TABLE_I_TEXT.splitlines()
    if line.strip()
)
"""Table I rows, aligned with :data:`LOT_SIZE_UPPER_BOUNDS`: ``level -> code letter``."""

_TABLE_II_A = (
    """\
       n  0.010 0.015 0.025 0.040 0.065  0.10  0.15  0.25  0.40  0.65   1.0   1.5
A      2      v     v     v     v     v     v     v     v     v     v     v     v
B      3      v     v     v     v     v     v     v     v     v     v     v     v
C      5      v     v     v     v     v     v     v     v     v     v     v     v
D      8      v     v     v     v     v     v     v     v     v     v     v   0/1
E     13      v     v     v     v     v     v     v     v     v     v   0/1     ^
F     20      v     v     v     v     v     v     v     v     v   0/1     ^     v
G     32      v     v     v     v     v     v     v     v   0/1     ^     v   1/2
H     50      v     v     v     v     v     v     v   0/1     ^     v   1/2   2/3
J     80      v     v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4
K    125      v     v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6
L    200      v     v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8
M    315      v     v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11
N    500      v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15
P    800      v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22
Q   1250    0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^
R   2000      ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^
""",
    """\
       n    2.5   4.0   6.5    10    15    25    40    65   100   150   250   400   650  1000
A      2      v     v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31
B      3      v   0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45
C      5    0/1     ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ^
D      8      ^     v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ^     ^
E     13      v   1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22 30/31 44/45     ^     ^     ^
F     20    1/2   2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^
G     32    2/3   3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^
H     50    3/4   5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^
J     80    5/6   7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^
K    125    7/8 10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
L    200  10/11 14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
M    315  14/15 21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
N    500  21/22     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
P    800      ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
Q   1250      ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
R   2000      ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
""",
)

_TABLE_II_B = (
    """\
       n  0.010 0.015 0.025 0.040 0.065  0.10  0.15  0.25  0.40  0.65   1.0   1.5
A      2      v     v     v     v     v     v     v     v     v     v     v     v
B      3      v     v     v     v     v     v     v     v     v     v     v     v
C      5      v     v     v     v     v     v     v     v     v     v     v     v
D      8      v     v     v     v     v     v     v     v     v     v     v     v
E     13      v     v     v     v     v     v     v     v     v     v     v   0/1
F     20      v     v     v     v     v     v     v     v     v     v   0/1     v
G     32      v     v     v     v     v     v     v     v     v   0/1     v     v
H     50      v     v     v     v     v     v     v     v   0/1     v     v   1/2
J     80      v     v     v     v     v     v     v   0/1     v     v   1/2   2/3
K    125      v     v     v     v     v     v   0/1     v     v   1/2   2/3   3/4
L    200      v     v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6
M    315      v     v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9
N    500      v     v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13
P    800      v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19
Q   1250      v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^
R   2000    0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^
S   3150      -     v   1/2     -     -     -     -     -     -     -     -     -
""",
    """\
       n    2.5   4.0   6.5    10    15    25    40    65   100   150   250   400   650  1000
A      2      v     v     v     v     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28
B      3      v     v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28 41/42
C      5      v   0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28 41/42     ^
D      8    0/1     v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28 41/42     ^     ^
E     13      v     v   1/2   2/3   3/4   5/6   8/9 12/13 18/19 27/28 41/42     ^     ^     ^
F     20      v   1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^
G     32    1/2   2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^
H     50    2/3   3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^
J     80    3/4   5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^
K    125    5/6   8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
L    200    8/9 12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
M    315  12/13 18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
N    500  18/19     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
P    800      ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
Q   1250      ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
R   2000      ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
S   3150      -     -     -     -     -     -     -     -     -     -     -     -     -     -
""",
)

_TABLE_II_C = (
    """\
       n  0.010 0.015 0.025 0.040 0.065  0.10  0.15  0.25  0.40  0.65   1.0   1.5
A      2      v     v     v     v     v     v     v     v     v     v     v     v
B      2      v     v     v     v     v     v     v     v     v     v     v     v
C      2      v     v     v     v     v     v     v     v     v     v     v     v
D      3      v     v     v     v     v     v     v     v     v     v     v   0/1
E      5      v     v     v     v     v     v     v     v     v     v   0/1     ^
F      8      v     v     v     v     v     v     v     v     v   0/1     ^     v
G     13      v     v     v     v     v     v     v     v   0/1     ^     v   0/2
H     20      v     v     v     v     v     v     v   0/1     ^     v   0/2   1/3
J     32      v     v     v     v     v     v   0/1     ^     v   0/2   1/3   1/4
K     50      v     v     v     v     v   0/1     ^     v   0/2   1/3   1/4   2/5
L     80      v     v     v     v   0/1     ^     v   0/2   1/3   1/4   2/5   3/6
M    125      v     v     v   0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8
N    200      v     v   0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10
P    315      v   0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13
Q    500    0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ^
R    800      ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ^     ^
""",
    """\
       n    2.5   4.0   6.5    10    15    25    40    65   100   150   250   400   650  1000
A      2      v     v   0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13 14/17
B      2      v   0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13 14/17 21/24
C      2    0/1     ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13 14/17 21/24     ^
D      3      ^     v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13 14/17 21/24     ^     ^
E      5      v   0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13 14/17 21/24     ^     ^     ^
F      8    0/2   1/3   1/4   2/5   3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^
G     13    1/3   1/4   2/5   3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^
H     20    1/4   2/5   3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^
J     32    2/5   3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^
K     50    3/6   5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
L     80    5/8  7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
M    125   7/10 10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
N    200  10/13     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
P    315      ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
Q    500      ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
R    800      ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^     ^
""",
)


def _parse(halves: tuple[str, str]) -> dict[str, tuple[int, tuple[str, ...]]]:
    """Join the two printed halves (AQL 0.010-1.5 and 2.5-1000) of a master table."""
    rows: dict[str, tuple[int, tuple[str, ...]]] = {}
    left, right = (half.splitlines() for half in halves)
    if left[0].split()[1:] + right[0].split()[1:] != list(AQL_LABELS):
        raise ValueError("master table header does not match AQL_LABELS")
    for left_line, right_line in zip(left[1:], right[1:], strict=True):
        letter, size, *cells = left_line.split()
        right_letter, right_size, *more = right_line.split()
        cells += more
        # A typo in the grid must fail at import, not give a wrong plan.
        if (letter, size) != (right_letter, right_size) or len(cells) != len(AQL_LABELS):
            raise ValueError(f"row {letter} is malformed")
        rows[letter] = (int(size), tuple(cells))
    return rows


MASTER_TABLES: dict[str, dict[str, tuple[int, tuple[str, ...]]]] = {
    "normal": _parse(_TABLE_II_A),
    "tightened": _parse(_TABLE_II_B),
    "reduced": _parse(_TABLE_II_C),
}
"""``inspection -> code letter -> (sample size, cells per AQL)`` for Tables II-A/B/C."""
