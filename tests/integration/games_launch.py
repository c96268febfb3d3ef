"""`halobuzz serve` with the games wired in, for tests, until the composition root lands on main
(then the plain server has them and this launcher goes). Run as: python -m tests.integration.games_launch serve ..."""
import sys

from halobuzz import features, games_plugin

if games_plugin.plugin not in features.PLUGINS:
    features.PLUGINS = (*features.PLUGINS[:-1], games_plugin.plugin, features.PLUGINS[-1])

from halobuzz.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.argv[0] = "halobuzz"
    main()
