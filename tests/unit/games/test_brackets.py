from halobuzz.games import brackets


def test_seed_order_and_sizes():
    assert brackets.seed_order(8) == [1, 8, 4, 5, 2, 7, 3, 6]
    assert [brackets.size_for(n) for n in (2, 3, 5, 8, 9)] == [2, 4, 8, 8, 16]


def test_every_feed_lands_once():
    for size in (2, 4, 8, 16, 32):
        for double in (False, True):
            matches, first = brackets.build(size, double)
            feeds: dict[tuple[int, str], int] = {}
            for key in first:
                feeds[key] = feeds.get(key, 0) + 1
            for m in matches:
                for dest in (m.win_to, m.lose_to):
                    if dest:
                        feeds[dest] = feeds.get(dest, 0) + 1
            assert all(v == 1 for v in feeds.values()), (size, double)
            assert len(feeds) == 2 * len(matches), (size, double)  # every slot of every match is fed
            finals = [m for m in matches if m.win_to is None]
            assert len(finals) == 1
            expected = size - 1 + (size - 2 + 1 if double else 0)  # W, L and the final
            assert len(matches) == expected, (size, double, len(matches))
