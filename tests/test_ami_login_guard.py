"""The AMI Login action goes through the header guard, checked against a listener that records every byte."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from dialer.ami.client import AmiTelephony
from dialer.ami.settings import AmiSettings, parse_ami_url
from dialer.core.errors import ConnectionFailed, HeaderRejected, InvalidInput

SECRET = "Tr0ub4dor"


@dataclass
class Listener:
    """A fake AMI on 127.0.0.1: greets, records what arrives, refuses every login."""

    port: int = 0
    received: bytearray = field(default_factory=bytearray)
    connections: int = 0


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    found = Listener()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        found.connections += 1
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        await writer.drain()
        buffer = b""
        while chunk := await reader.read(4096):
            found.received.extend(chunk)
            buffer += chunk
            while b"\r\n\r\n" in buffer:
                action, buffer = buffer.split(b"\r\n\r\n", 1)
                match = re.search(rb"ActionID: ([^\r\n]*)", action)
                action_id = match.group(1) if match else b""
                reply = b"Response: Error\r\nActionID: " + action_id
                writer.write(reply + b"\r\nMessage: Authentication failed\r\n\r\n")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    async with server:
        yield found


async def test_a_plain_login_reaches_the_listener(listener: Listener) -> None:
    settings = AmiSettings("127.0.0.1", listener.port, "dialer", SECRET)
    with pytest.raises(ConnectionFailed, match="Authentication failed"):
        await AmiTelephony.connect(settings, action_timeout_s=5.0)
    assert b"Action: Login" in listener.received and b"Username: dialer" in listener.received


@pytest.mark.parametrize(
    ("user", "secret"),
    [
        ("dialer", "x\r\nAction: Originate\r\nChannel: Local/1@x"),
        ("dialer", "x\nAction: Originate"),
        ("dialer", "x\0y"),
        ("dialer\r\nAction: Originate", SECRET),
        ("dialer", "s" * 1100),
    ],
)
async def test_a_login_with_a_line_break_is_refused_before_a_byte_is_sent(
    listener: Listener, user: str, secret: str
) -> None:
    settings = AmiSettings("127.0.0.1", listener.port, user, secret)
    with pytest.raises(HeaderRejected) as info:
        await AmiTelephony.connect(settings, action_timeout_s=5.0)
    assert "Originate" not in str(info.value) and secret not in str(info.value)
    await asyncio.sleep(0.05)
    assert listener.connections == 0 and bytes(listener.received) == b""


@pytest.mark.parametrize(
    "url",
    [
        "ami://dialer:x%0D%0AAction%3A%20Originate@127.0.0.1:5038",
        "ami://dialer:x%0AAction%3A%20Originate@127.0.0.1",
        "ami://dialer%0D%0AAction%3A%20Originate:x@127.0.0.1",
        "ami://dialer:x%00y@127.0.0.1",
    ],
)
def test_an_ami_url_whose_login_would_carry_a_line_break_is_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_ami_url(url)
    assert "Originate" not in str(info.value) and "x%" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [
        f"ami://dialer:{SECRET}/x@127.0.0.1:5038",
        f"ami://dialer:{SECRET}#1@127.0.0.1:5038",
        f"ami://dialer:{SECRET}?1@127.0.0.1:5038",
        f"ami://dialer:{SECRET}",
        f"ami://dialer:{SECRET}:5038",
        f"ami://dialer:{SECRET}@127.0.0.1:abc",
        f"ami://dialer:{SECRET[:4]}#{SECRET[4:]}@h",
    ],
)
def test_a_malformed_ami_url_never_echoes_the_secret(url: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_ami_url(url)
    message = str(info.value)
    for piece in (SECRET, SECRET[:4], SECRET[4:], "ub4d"):
        assert piece not in message, message
    assert "\n" not in message
