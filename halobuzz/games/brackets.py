"""Bracket shapes for single and double elimination (pure functions, no database).

A bracket has S = 2^k slots (S >= 2, the next power of two at or above the players).
Standard seeding puts seed 1 against seed S, 2 against S-1 ... arranged so the best seeds
meet last; seeds above the number of players are byes. Each match says where its winner
and its loser go (match number and slot a/b), so byes and everything else resolve the
same way: a match with one player passes him on, a match with none passes nobody on.

Double elimination: the winners' bracket (W) as above, a losers' bracket (L) of 2(k-1)
rounds — odd rounds pair the survivors, even rounds bring in the losers of the next
winners' round (in reverse order, to postpone rematches) — and one grand final (F)
between the two bracket winners (no reset match).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Match:
    no: int
    bracket: str  # W, L or F
    round: int
    position: int
    win_to: tuple[int, str] | None = None
    lose_to: tuple[int, str] | None = None


def size_for(players: int) -> int:
    size = 2
    while size < players:
        size *= 2
    return size


def seed_order(size: int) -> list[int]:
    """[1, 8, 4, 5, 2, 7, 3, 6] for 8: slot order of seeds in the first round."""
    order = [1]
    while len(order) < size:
        n = len(order) * 2
        order = [x for s in order for x in (s, n + 1 - s)]
    return order


def build(size: int, double: bool) -> tuple[list[Match], dict[tuple[int, str], int]]:
    """The matches and the first-round slots: {(match no, 'a'|'b'): seed}."""
    k = size.bit_length() - 1
    matches: list[Match] = []
    wb: dict[tuple[int, int], Match] = {}
    lb: dict[tuple[int, int], Match] = {}

    def new(bracket: str, rnd: int, pos: int) -> Match:
        m = Match(len(matches) + 1, bracket, rnd, pos)
        matches.append(m)
        return m

    for r in range(1, k + 1):
        for i in range(size >> r):
            wb[(r, i)] = new("W", r, i)
    lb_rounds = 2 * (k - 1) if double else 0
    for j in range(1, lb_rounds + 1):
        m = (j + 1) // 2
        count = size >> (m + 1)
        for i in range(count):
            lb[(j, i)] = new("L", j, i)
    final = new("F", 1, 0) if double else None

    def slot(i: int) -> str:
        return "a" if i % 2 == 0 else "b"

    for (r, i), mt in wb.items():
        if r < k:
            mt.win_to = (wb[(r + 1, i // 2)].no, slot(i))
        elif final is not None:
            mt.win_to = (final.no, "a")
        if not double:
            continue
        if k == 1:
            mt.lose_to = (final.no, "b")
        elif r == 1:
            mt.lose_to = (lb[(1, i // 2)].no, slot(i))
        else:
            count = size >> r
            mt.lose_to = (lb[(2 * (r - 1), count - 1 - i)].no, "b")
    for (j, i), mt in lb.items():
        if j == lb_rounds:
            mt.win_to = (final.no, "b")
        elif j % 2 == 1:
            mt.win_to = (lb[(j + 1, i)].no, "a")
        else:
            mt.win_to = (lb[(j + 1, i // 2)].no, slot(i))
    order = seed_order(size)
    first = {}
    for i in range(size // 2):
        first[(wb[(1, i)].no, "a")] = order[2 * i]
        first[(wb[(1, i)].no, "b")] = order[2 * i + 1]
    return matches, first


def places(double: bool) -> int:
    return 3 if double else 2
