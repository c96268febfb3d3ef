"""The raw baseline for HTTP benchmarks: Sanic's hello route, configured like our server."""

import sys

from sanic import Sanic
from sanic.response import json

app = Sanic("hello_baseline")


@app.get("/")
async def hello(request):
    return json({"hello": "world"})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), single_process=True, access_log=False, motd=False)
