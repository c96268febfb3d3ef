"""/ws frames → Socket.IO packets: what python-socketio itself decodes them to."""

from socketio import packet as sio_packet

from halobuzz.realtime import protocol as p
from halobuzz.realtime.socketio import ACK_DONE, Converted, Converter, ack_text, split_frames


def test_frames_split_and_convert_like_python_socketio_reads_them():
    big = {"text": "x" * 70_000, "n": [1, 2]}
    frames = [
        p.frame("chat:new", {"text": "hi", "replyTo": None}),
        p.frame("gift:sent", big),
        p.frame("pong", {"replyTo": "c7"}),
        p.frame(ACK_DONE, {"replyTo": "c8"}),
    ]
    blob = b"".join(frames)
    assert [bytes(x) for x in split_frames(blob)] == [
        f[2 if f[1] < 126 else 4 if f[1] == 126 else 10 :] for f in frames
    ]
    convert = Converter()
    batch = convert(blob)
    assert convert(blob) is batch and convert.conversions == 1  # the same write is converted once
    chat, gift, pong, done = batch.items
    for item, (event, data) in (
        (chat, ("chat:new", {"text": "hi", "replyTo": None})),
        (gift, ("gift:sent", big)),
        (pong, ("pong", {"replyTo": "c7"})),
    ):
        text = item.packet.encode()
        assert text[0] == "4"  # Engine.IO MESSAGE
        pkt = sio_packet.Packet(encoded_packet=text[1:])
        assert pkt.packet_type == sio_packet.EVENT and pkt.namespace in (None, "/") and pkt.data == [event, data]
        assert item.frame == p.text_frame(text.encode())
    assert pong.reply_to == "c7" and chat.reply_to is None and batch.has_reply
    assert done.packet is None and done.frame == b"" and done.reply_to == "c8"
    assert batch.joined == chat.frame + gift.frame + pong.frame
    ack = sio_packet.Packet(encoded_packet=ack_text(5, pong))
    assert (
        ack.packet_type == sio_packet.ACK and ack.id == 5 and ack.data == [{"event": "pong", "data": {"replyTo": "c7"}}]
    )
    ok = sio_packet.Packet(encoded_packet=ack_text(6, done))
    assert ok.data == [{"event": "ok", "data": {"replyTo": "c8"}}]
    assert isinstance(Converted(p.envelope("x", None)).packet.encode(), str)
