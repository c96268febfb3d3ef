"""Built-in video path: RTMP ingest -> low-latency HLS -> replays, with ffmpeg as a supervised child.

No Sanic here. `engine` finds and describes ffmpeg, `ingest` runs one ffmpeg child per live
stream, `store` keeps ingest keys and replay rows, `replay` turns a stream's recorded segments
into a VOD playlist, `service` ties them to the stream lifecycle, `playback` signs viewer URLs.
"""
