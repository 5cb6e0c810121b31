#!/usr/bin/env python3
"""Writes the .eml corpus of tests/unit/test_policy.c into tests/data/eml/.

Deterministic: run it again and nothing changes. OpenPGP packets are built here byte by byte
(RFC 4880 §4.2 new-format headers), except the GNUPG_* ones, which GnuPG 2.2 made for a
throw-away key: those stay real (decryptable) data, once re-framed from GnuPG's old-format
PKESK header into a new-format one. Every file says its point in an X-Test-Purpose header.
"""
import base64
import quopri
import hashlib
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eml")
ALICE = "alice@chat.example.org"
BOB = "bob@example.net"

# gpg -e: old-format PKESK (ctb 0x84, X25519) + SEIPD v1 of "hello".
GNUPG_SMALL = (
    "hF4Dh56swl6CaZUSAQdAgX9/4flUE0upZE9C7b5xSqNDgJ+klnavUMygwoFc6GEwrx9hcjRKPG15W6Jg8tMb"
    "3m6F3vpXh/SgIICOTYvKloVlXlNMOaOuHIG96t5mkJib0kEBkRkLTZmzhSzWqIQpoV/d0Hd7e+oZWEUAqJ/v"
    "BKqa8ERbslNlUnYVULXOS9T2pWpVUa5qW7sWskPrAIBNzQnbnA=="
)
# gpg -e from a pipe: the SEIPD comes in partial body lengths (2048, then 472).
GNUPG_PARTIAL = (
    "hF4Dh56swl6CaZUSAQdAWHWNWq8pmuOjXB3sRHHzYQmh9jAbeeRSZa0u1xVL010w2Wfq0BVgtDm0"
    "Nz0pppXIHM8+BEQFbUXraknH5jUr+7hzMWYne5pl/qVqcg1hYLKF0usBugdcY2QGxYpG53e2syCZ"
    "N5aN74egbhL5Rm3Um2ldG1040gjhhQTylRgv436mpk3RT45SjY3mmCFaQZFsyvvCpywOQ92Bd28X"
    "vimO7D/Pvd7PDZDtY8QwTQMmhfYmC7lsHUmcMCA+JGJwOMlB+jXX9N1mgFOxWLoD2VAjNW+3cL/I"
    "WinBb7bbWipgCvUWxmjwcSekR0DLco0OPa0XZkEf8WSvsBRwXhUqydusZWrmZvIbChDW8808ChGp"
    "z/CT5uTFZpx5tvNSyhVoWoV7Lp4ByCNgmufOx6Gx5SJCcgRXI2ZiQURsD9mdt15ZyC5lq2JYkgHT"
    "Pn9HNxOcZ8I9QftOjXfkUq33Q9xLdZtRoWWeC3zjbhuuVJ+KpymqIAOSJB46kwIc24PN6Zfzxqmz"
    "M9zPAJ93kOAq5dK1+/zzYtAZr/wU6iWE5HdYqjeLf1DmeyMAf/sHL+wqURTl1DziwL9z61lr2Wd2"
    "FYM23AKqB0jt+eYX0XE4flHHNfki02teg19V+o5ot30A2+SENaRiEB47oNDL9jgvhRXO6bu4kWkG"
    "whRB0wyeo40OjpsHV3VatGX8tp+5lTE72b5ktGM/Tv2UFr4YPfRjTxlvTXfu5r8EXZ/jv3praCwS"
    "2drcKpVOb5JYMKf9SjZgKRpyTW1cP5jYKyGDYUyhDhL/k31L07LJHd1MysESH8BG1teLASDdozuN"
    "9fYkClUjWax4KJy5MIr9YlRL28NF14C4IO53w06pddJoJ4IoCn2vPCa8BhcYgoSrXTbGAtPUFofp"
    "cZPToXyNJy/Y4qqxr1f8yEQU5mUcQrkK7LTT+87I/7KhbqmBxXpkoidPmSvm8WrImu2q9HlmCkds"
    "vxYgsIrq7WWypY3WYkcTRBvz9+on0623+0YAUWGa1dXlvrS6OQ6aPwk8/wU2Z52AZGkTcvTe55S6"
    "R5YV335Xizpr5Gzg7zIbdkzy3jG/jx/B2tZ8nNgsETqlrQol9AxrrUANgCz/BEHalqkO+/F4IBog"
    "hnjSgWP+ECULmAa/fv1HQRon2ep21Ue3MRYDYY31koUDVe9U0+ui9zvjg7Lxr8QOAtcQ9YAobJSi"
    "iY+BUftfKg4HRsT+WaDEnx3vbPn2WUq7MJsR2Ryx9jdJ1sZ7ZzxVptAs26QBow838tyf4n7T1OFV"
    "YXHPqzYfWsvRjQNwaXSmTfne/38wSjT8SBG4xFwj+FKgRe6khNLxGo/sQWHPSvueJCg44VYGSTXe"
    "D5NNO0t/zBuD3kfvi1riWFOPWh+gDsQdrsNQdC8X/tMVo8upi0ZkEwED9GWV5xuWUIM8GnpxetBi"
    "mpsN8E6iJQe2/5IeEoFf0FcqalzxoJA98s5LrF9ySpv0owFG7cgfXjKgJ9eW7fmG4OgRpOMPM+7M"
    "LkPm5GAZ6RbxPzT1yE0NhG++5IGeXPuaFPYaCdJ7vfINYXS9jpsyWijIfQBP7//tl9nQaEAl24qW"
    "xTPFzO7WWBX7/I+3171OyC6UQjFiradUmiyMBXbVjB+8cH9zj9dqW5g4nXCFr1656+vTKbB8GvK7"
    "poEg0vfrlDbt17QpNgWEb0otQEkPHMEooclY3HBnRKIkNsQ/TSzIp4fCohmGVJaE3cGjRS7S8znz"
    "1EqMhnHgTN/DIsmhkdpSH4eiqqFSc8RmA4fEri6GxBn2Pu65ZpQsR7tXUMHIcZl89X+WuAxHP777"
    "Ryik3gyTxNrFa9nsEkKkyuWuMkFWkuS4q9nAucA/FUBpUiedyZwPC72PQdO2nZz0BLB2QngtAwG8"
    "a0ifTVrE76CAaHz0VwSOv5pew0gguY86xttoatbfgXYN1KFS1KdDF1+NV61vGBfuX3sgDCOa1FbF"
    "ENZ+iGWWpAbx+O2/n1n2GtiWL9B126DZiPskVJUjkVgTcWJuFReZA0PBRdppi4rDgwqbn+ZKqAJN"
    "jcvA+5AOcsLo1f2Qdel0M5Eifg/eYtdKTn2cA2H+8yPOEmQALHhGYCULfR7FoXEdQLpTLZcGDw4A"
    "Ifv8OjkldSYPHlGe5tongwPdgfwySeH7U/DMWIw63jlraFkxiPrxJgQwldNoiSJbbtVXuvBf4Np9"
    "vGiAjnVy/7swvOBd9hgPi87B/hVQWjp1/QBDUneEVLqn+k0/WJAMgB9x2qjfxMYdWxDBGXgDyLFB"
    "2hXT+cGhcl9TJwCEjL3g4EiNHNxrfiN4EoIBSWMqiDurHUxGbP3usUcrfkFhEKKgPGtYDzUdvSAY"
    "hTvaT94zFOpFxiC7AVIrBIbKeBVywgl+cBi1OCxVy7SW8MBc3lNYMXBdD1aKvz9uSQaLfmLBkCsq"
    "CjFkgtBKoEjXwThC14zpAUi+lT5EgRiLTD7Dcnad7Kbl3OVYOfxOgS0hvMyEQia3MEpU+nK/iezA"
    "wvv3u+EwRmE0iFFzjryPqM0ra/gmrnUBMthhpWwUNREiBBakx5NLjZgH+1JIsCy8ZYNA9p08lY1n"
    "Htv2SlFrJ/wXDqNoOYhzymx1eMEHGaZOJvleN6ZNhsjljl7flwsZMip7RCIObgLNsZNHu2yKldQF"
    "hQ6JcwI3ikqkGwW8Rh4psEFMA1xGwXfx6+JvdGR/wAkRAQkY4lireH4TW6wr0dae8WWcY42ho2El"
    "Dhvm9Vx6ZsbGVj0CTKWAhIberGVHvQaWKUPs9z/ds+HESPwmL+Yaj1S48FyTY5WDGWvl5+mVd4sq"
    "/EoZERK/V6ZqeIPNtgZIIdFjugB0CMr6z1bft+T6AwmoYosGMcEYkkjdsPxBDRJ/ckwFGks2usHm"
    "AKkisGw1IV1ybd9hCW4VMv9MKHuaRJODf+dTg0mxVI1JecQi+6oe3Qa2TZVoBtUnlINpZX6AC2no"
    "UY7NGsqKvJISCy69x6mAtT/4Rm1GaUVRLJcqJHko6wFgEPG05aj1bpq5vVNSgm7JuSzg22tc8ccG"
    "vqCveLuLHs1S5vEzqAXS7MSvgRmQQmHysmUKMI12IohOD+Kpu2Dp3HJztfdNMQugFdtXgVoyCXfo"
    "YSWEauied5LQ1Q9vIre+DbjbHBrn5PfbErk0cSQ/+uLxW8dpYbMYH27FVF3fjOyx04dx7F+GpjDT"
    "FttgnROAROsQYD9Bym1FUwo2JHQQ8nc6HFoXbdR67nc6l/aUb8S8jEm+9Rdddy9kvIgFR+Ad7gNM"
    "tPUeYdBZV4ozDvePfuLahdu8yxqYL2R9WFUp5lGX5Aafi77Ry6CVGDZoZdQr2ttPtL4qpeRmR1Eh"
    "YMl4qww5acrdPfW09Mb/ML1zbTSYVBkK2r7bva4PMekg998OLBZ+DTZb3hKZendU6TnrpHE+FxSB"
    "kgLM7GZre92/eRxdjEN+aBNuWOeF0PevHL89BxizH42xYXeIpOZASoVzFS+/IKe9eePi833GPg==")


def noise(label, n):
    """n bytes that look random and are the same on every run."""
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


def length(n, form=None):
    """A new-format body length: one, two or five octets (RFC 4880 §4.2.2)."""
    form = form or (1 if n < 192 else 2 if n < 8384 else 5)
    if form == 1:
        assert n < 192
        return bytes([n])
    if form == 2:
        assert 192 <= n < 8384
        return bytes([192 + ((n - 192) >> 8), (n - 192) & 0xFF])
    return b"\xff" + n.to_bytes(4, "big")


def packet(tag, body, form=None):
    return bytes([0xC0 | tag]) + length(len(body), form) + body


def partial_packet(tag, body, exponents):
    """Chunks of 2**e octets with partial lengths, then the rest with a final length."""
    out = bytes([0xC0 | tag])
    pos = 0
    for e in exponents:
        out += bytes([224 + e]) + body[pos : pos + (1 << e)]
        pos += 1 << e
    return out + length(len(body) - pos) + body[pos:]


def pkesk_x25519(label):
    """PKESK v3 to an ECDH Curve25519 key: key id, algo 18, MPI point, wrapped key."""
    return (b"\x03" + noise(label + "/keyid", 8) + b"\x12" + b"\x01\x07\x40" +
            noise(label + "/point", 32) + b"\x30" + noise(label + "/wrapped", 48))


def pkesk_rsa(label):
    """PKESK v3 to an RSA-2048 key: 268 octets, so a two-octet length."""
    return b"\x03" + noise(label + "/keyid", 8) + b"\x01" + b"\x08\x00" + noise(label, 256)


def skesk(label):
    """SKESK v4: AES-256, iterated and salted S2K with SHA-256."""
    return b"\x04\x09\x03\x08" + noise(label, 8) + b"\x60"


def seipd(label, n):
    """SEIPD v1: the version octet, then ciphertext."""
    return b"\x01" + noise(label, n - 1)


def reframe_gnupg(b64):
    """GnuPG's old-format PKESK header (0x84, one-octet length) made new-format."""
    data = base64.b64decode(b64)
    assert data[0] == 0x84
    return packet(1, data[2 : 2 + data[1]]) + data[2 + data[1] :]


def crc24(data):
    crc = 0xB704CE
    for octet in data:
        crc ^= octet << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def armor(data, headers=(), crc=True, width=64):
    text = base64.b64encode(data).decode()
    lines = ["-----BEGIN PGP MESSAGE-----", *headers, ""]
    lines += [text[i : i + width] for i in range(0, len(text), width)]
    if crc:
        lines.append("=" + base64.b64encode(crc24(data).to_bytes(3, "big")).decode())
    lines.append("-----END PGP MESSAGE-----")
    return "\n".join(lines) + "\n"


def head(name, purpose, content_type, sender=ALICE, subject="[...]", extra=()):
    lines = [
        f"X-Test-Purpose: {purpose}",
        f"From: <{sender}>" if sender else None,
        f"To: <{BOB}>",
        f"Subject: {subject}",
        "Date: Sat, 30 Nov 2024 10:00:00 +0000",
        f"Message-ID: <{name}@chat.example.org>",
        "MIME-Version: 1.0",
        *extra,
        f"Content-Type: {content_type}",
    ]
    return "\n".join(line for line in lines if line is not None) + "\n\n"


def encrypted_parts(armored, boundary, version="Version: 1", cte=None):
    """The two RFC 3156 parts; cte transfer-encodes the armored one."""
    if cte == "base64":
        armored = base64.encodebytes(armored.encode()).decode()
    elif cte == "quoted-printable":
        armored = quopri.encodestring(armored.encode()).decode()
    return (
        f"--{boundary}\n"
        "Content-Type: application/pgp-encrypted\n"
        "Content-Description: PGP/MIME version identification\n\n"
        f"{version}\n\n"
        f"--{boundary}\n"
        'Content-Type: application/octet-stream; name="encrypted.asc"\n'
        + (f"Content-Transfer-Encoding: {cte}\n" if cte else "") +
        "Content-Description: OpenPGP encrypted message\n"
        'Content-Disposition: inline; filename="encrypted.asc";\n\n'
        f"{armored}\n"
    )


def encrypted(name, purpose, armored, boundary="LtN3B8k2dQ4oYx7sZ0vRwAcE", version="Version: 1",
              extra=(), sender=ALICE, cte=None, ctype=None):
    ctype = ctype or (
        f'multipart/encrypted; protocol="application/pgp-encrypted";\n\tboundary="{boundary}"')
    body = encrypted_parts(armored, boundary, version, cte) + f"--{boundary}--\n"
    return head(name, purpose, ctype, sender=sender, extra=extra) + body


MESSAGES = {}


def message(name, text, crlf=True):
    MESSAGES[name] = text.replace("\n", "\r\n") if crlf else text


X25519 = packet(1, pkesk_x25519("bob"))
SEIPD = packet(18, seipd("seipd", 180))
GOOD = armor(X25519 + SEIPD)


def encrypted_corpus():
    message("encrypted.eml", encrypted(
        "encrypted", "Delta Chat style PGP/MIME: one PKESK (X25519), one SEIPD", GOOD))
    message("encrypted-lf.eml", encrypted(
        "encrypted-lf", "the same with bare LF line ends", GOOD), crlf=False)
    message("encrypted-two-pkesk.eml", encrypted(
        "encrypted-two-pkesk", "two PKESKs (two recipients), SEIPD with a two-octet length",
        armor(X25519 + packet(1, pkesk_x25519("carol")) + packet(18, seipd("two", 1500)))))
    message("encrypted-skesk.eml", encrypted(
        "encrypted-skesk", "SKESK (password) then SEIPD",
        armor(packet(3, skesk("pw")) + SEIPD)))
    message("encrypted-rsa-five-octet.eml", encrypted(
        "encrypted-rsa-five-octet", "RSA PKESK (two-octet length), SEIPD with a five-octet length",
        armor(packet(1, pkesk_rsa("rsa")) + packet(18, seipd("five", 300), form=5))))
    message("encrypted-partial.eml", encrypted(
        "encrypted-partial", "SEIPD in partial body lengths 512 and 256, then a final length",
        armor(X25519 + partial_packet(18, seipd("partial", 805), [9, 8]))))
    message("encrypted-seipd-only.eml", encrypted(
        "encrypted-seipd-only", "zero session key packets: a lone SEIPD is still encrypted",
        armor(SEIPD)))
    message("encrypted-no-crc.eml", encrypted(
        "encrypted-no-crc", "no CRC line (RFC 9580 makes it optional)",
        armor(X25519 + SEIPD, crc=False)))
    message("encrypted-gnupg-reframed.eml", encrypted(
        "encrypted-gnupg-reframed", "real GnuPG ciphertext with the PKESK header made new-format",
        armor(reframe_gnupg(GNUPG_SMALL))))
    message("encrypted-gnupg-partial.eml", encrypted(
        "encrypted-gnupg-partial", "real GnuPG ciphertext whose SEIPD has partial body lengths",
        armor(reframe_gnupg(GNUPG_PARTIAL))))
    message("encrypted-thunderbird-style.eml",
            head("encrypted-thunderbird-style",
                 "unquoted folded boundary, mixed-case type, preamble and epilogue",
                 "Multipart/Encrypted;\n protocol=\"application/pgp-encrypted\";"
                 "\n boundary=------------enigA1B2C3D4") +
            "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n" +
            encrypted_parts(GOOD, "------------enigA1B2C3D4") +
            "--------------enigA1B2C3D4--  \n\nepilogue text\n")
    message("encrypted-armor-version.eml", encrypted(
        "encrypted-armor-version", "armor header Version: -- outgoing rejects, incoming tolerates",
        armor(X25519 + SEIPD, headers=("Version: ProtonMail",))))
    message("encrypted-armor-comment.eml", encrypted(
        "encrypted-armor-comment", "armor header Comment: counts like Version:",
        armor(X25519 + SEIPD, headers=("Comment: https://example.org",))))
    message("from-display-name.eml", encrypted(
        "from-display-name", "From: with a quoted display name, folded, other case than envelope",
        GOOD, sender=None,
        extra=('From: "Alice, at work" (office)', "\t<Alice@Chat.Example.ORG>")))
    message("from-two-addresses.eml", encrypted(
        "from-two-addresses", "From: with two addresses is not the envelope sender",
        GOOD, sender=None, extra=(f"From: <{ALICE}>, <mallory@example.net>",)))
    message("from-duplicate.eml", encrypted(
        "from-duplicate", "two From: fields: which one would a reader see? rejected",
        GOOD, extra=("From: <mallory@example.net>",)))


def broken(name, purpose, data=None, armored=None, **kwargs):
    message(name, encrypted(name.removesuffix(".eml"), purpose,
                            armored if armored is not None else armor(data), **kwargs))


def broken_corpus():
    broken("broken-old-format-gnupg.eml", "GnuPG 2.2 output as is: its PKESK is old-format",
           base64.b64decode(GNUPG_SMALL))
    broken("broken-truncated.eml", "SEIPD length says 200 octets, only 150 follow",
           X25519 + b"\xd2" + length(200) + seipd("cut", 150))
    broken("broken-trailing-garbage.eml", "three octets after the SEIPD",
           X25519 + SEIPD + b"\x00\x13\x37")
    broken("broken-seipd-first.eml", "wrong order: SEIPD before the PKESK", SEIPD + X25519)
    broken("broken-two-seipd.eml", "two SEIPDs", X25519 + SEIPD + packet(18, seipd("again", 40)))
    broken("broken-literal.eml", "a literal data packet: cleartext dressed as OpenPGP",
           packet(11, b"b\x00\x00\x00\x00\x00Hello, this is not encrypted at all.\n"))
    broken("broken-aead.eml", "an OCB encrypted data packet (tag 20), not a SEIPD",
           X25519 + packet(20, b"\x01\x09\x02\x10" + noise("ocb", 100)))
    broken("broken-no-seipd.eml", "session keys but no encrypted data",
           X25519 + packet(3, skesk("pw")))
    broken("broken-partial-pkesk.eml", "partial body length on a PKESK (not a data packet)",
           partial_packet(1, pkesk_x25519("p") + noise("pad", 512), [9]) + SEIPD)
    broken("broken-partial-unfinished.eml", "partial chunk of 512 octets, then the data ends",
           X25519 + b"\xd2" + bytes([224 + 9]) + seipd("unfinished", 512))
    text = armor(X25519 + SEIPD).replace("\nwV4D", "\nwV!D", 1)
    broken("broken-bad-base64.eml", "a '!' inside the base64", armored=text)
    lines = armor(X25519 + SEIPD).split("\n")
    broken("broken-bad-padding.eml", "base64 that stops mid-group (no padding)",
           armored="\n".join(lines[:-4] + [lines[-4][:-2].rstrip("=")] + lines[-3:]))
    broken("broken-no-end-line.eml", "no END PGP MESSAGE line",
           armored=GOOD.replace("-----END PGP MESSAGE-----\n", ""))
    broken("broken-text-after-end.eml", "text after the END line",
           armored=GOOD + "PS: read this in the clear\n")
    broken("broken-signed-message.eml", "BEGIN PGP SIGNED MESSAGE is not an encrypted message",
           armored=GOOD.replace("BEGIN PGP MESSAGE", "BEGIN PGP SIGNED MESSAGE"))
    broken("broken-version-2.eml", "first part says Version: 2", X25519 + SEIPD,
           version="Version: 2")
    fake = base64.b64encode(b"Delta Chat is a decentralized and secure messenger app.\n" * 4)
    broken("fake-encrypted.eml", "the base64 of plain text inside the armor",
           armored="-----BEGIN PGP MESSAGE-----\n\n" + fake.decode() +
           "\n-----END PGP MESSAGE-----\n")
    broken("fake-cleartext-armor.eml", "plain words between the armor lines",
           armored="-----BEGIN PGP MESSAGE-----\n\nDefinitely not base64 encoded PGP message "
           "content.\n-----END PGP MESSAGE-----\n")
    b = "ThreeParts"
    message("broken-three-parts.eml",
            head("broken-three-parts", "a third part after the two of RFC 3156",
                 f'multipart/encrypted; protocol="application/pgp-encrypted"; boundary="{b}"') +
            encrypted_parts(GOOD, b) +
            f"--{b}\nContent-Type: text/plain\n\nHello in the clear\n--{b}--\n")
    message("broken-one-part.eml",
            head("broken-one-part", "only the Version part, no encrypted data",
                 f"multipart/encrypted; boundary={b}") +
            f"--{b}\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n--{b}--\n")
    parts = encrypted_parts(GOOD, b).split(f"--{b}\n")
    message("broken-parts-swapped.eml",
            head("broken-parts-swapped", "the encrypted part before the Version part",
                 f"multipart/encrypted; boundary={b}") +
            f"--{b}\n" + parts[2] + f"--{b}\n" + parts[1] + f"--{b}--\n")
    message("broken-nested.eml",
            head("broken-nested", "the armored part inside a nested multipart/mixed whose "
                 "boundary starts with the outer one", "multipart/encrypted; boundary=outer") +
            "--outer\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n" +
            "--outer\nContent-Type: multipart/mixed; boundary=outer-inner\n\n" +
            "--outer-inner\nContent-Type: application/octet-stream\n\n" + GOOD +
            "--outer-inner--\n--outer--\n")
    message("broken-inline-pgp.eml",
            head("broken-inline-pgp", "inline PGP in text/plain is not PGP/MIME",
                 "text/plain; charset=utf-8") + GOOD)
    message("broken-no-boundary.eml",
            head("broken-no-boundary", "multipart/encrypted without a boundary parameter",
                 'multipart/encrypted; protocol="application/pgp-encrypted"') +
            encrypted_parts(GOOD, "LtN3B8k2dQ4oYx7sZ0vRwAcE") + "--LtN3B8k2dQ4oYx7sZ0vRwAcE--\n")
    depth = 40
    bomb = "".join(f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n"
                   for i in range(depth))
    bomb += f"--b{depth}\nContent-Type: text/plain\n\nbottom\n"
    bomb += "".join(f"--b{i}--\n" for i in reversed(range(depth + 1)))
    message("mime-bomb.eml", head("mime-bomb", f"multipart/encrypted around {depth} nested "
                                  "multiparts: refused at the first part, nothing recurses",
                                  'multipart/encrypted; protocol="application/pgp-encrypted"; '
                                  "boundary=b0") + bomb)


def text_part(body, ctype="text/plain; charset=utf-8", encoding=None):
    cte = f"Content-Transfer-Encoding: {encoding}\n" if encoding else ""
    return f"Content-Type: {ctype}\n{cte}\n{body}\n"


def multipart(name, purpose, parts, subtype="mixed", extra=(), sender=ALICE, subject="[...]",
              params=""):
    b = "SJ8x2mQpL0vKzR"
    body = "".join(f"--{b}\n{p}" for p in parts) + f"--{b}--\n"
    return head(name, purpose, f'multipart/{subtype}; boundary="{b}"{params}', sender=sender,
                subject=subject, extra=extra) + body


def securejoin_corpus():
    vc = ("Secure-Join: vc-request", "Secure-Join-Invitenumber: Ax3fQ7pLk2")
    vg = ("Secure-Join: vg-request", "Secure-Join-Invitenumber: Gb5hR1sMn8")
    message("securejoin-vc.eml", multipart(
        "securejoin-vc", "Secure-Join vc-request as Delta Chat sends it",
        [text_part("Secure-Join: vc-request")], extra=vc))
    message("securejoin-vg.eml", multipart(
        "securejoin-vg", "Secure-Join vg-request, body in another case and with blank lines",
        [text_part("\n  SECURE-JOIN: VG-REQUEST  \n")], extra=vg))
    message("securejoin-vc-lf.eml", multipart(
        "securejoin-vc-lf", "Secure-Join vc-request with bare LF line ends",
        [text_part("Secure-Join: vc-request")], extra=vc), crlf=False)
    message("securejoin-vg-base64.eml", multipart(
        "securejoin-vg-base64", "the body is base64: it is decoded before the comparison",
        [text_part(base64.b64encode(b"Secure-Join: vg-request\r\n").decode(), encoding="base64")],
        extra=vg))
    message("securejoin-vc-qp.eml", multipart(
        "securejoin-vc-qp", "the body is quoted-printable with a soft line break",
        [text_part("Secure-Join: vc=2D=\nrequest", encoding="quoted-printable")], extra=vc))
    message("securejoin-header-only.eml",
            head("securejoin-header-only", "the header, but a single text/plain body",
                 "text/plain; charset=utf-8", extra=vc) + "Secure-Join: vc-request\n")
    message("securejoin-wrong-body.eml", multipart(
        "securejoin-wrong-body", "the header, but the part says something else",
        [text_part("Hi! Secure-Join: vc-request, and here is my cleartext message.")], extra=vc))
    message("securejoin-two-parts.eml", multipart(
        "securejoin-two-parts", "a second part after the request text",
        [text_part("Secure-Join: vc-request"),
         text_part("aGVsbG8=", ctype="image/png", encoding="base64")], extra=vc))
    message("securejoin-html.eml", multipart(
        "securejoin-html", "vc-request header, but the one part is html with an armor in it",
        [text_part("<p>" + GOOD + "</p>", ctype="text/html; charset=utf-8")], extra=vc))
    message("securejoin-nested.eml", multipart(
        "securejoin-nested", "the text part one level down, in a multipart/alternative",
        ["Content-Type: multipart/alternative; boundary=inner\n\n--inner\n" +
         text_part("Secure-Join: vc-request") + "--inner--\n"], extra=vc))
    message("securejoin-wrong-header.eml", multipart(
        "securejoin-wrong-header", "Secure-Join: vc-auth is not a request (and goes encrypted)",
        [text_part("Secure-Join: vc-request")], extra=("Secure-Join: vc-auth",)))


def daemon_view_corpus():
    """Messages that filtermail once read as encrypted while Postfix, Dovecot and every MIME
    reader behind it see them another way (issue 11), and the transfer encodings the
    reference accepts on the armored part."""
    message("encrypted-base64-armor.eml", encrypted(
        "encrypted-base64-armor", "the armored part in Content-Transfer-Encoding: base64",
        GOOD, cte="base64"))
    message("encrypted-qp-armor.eml", encrypted(
        "encrypted-qp-armor", "the armored part in quoted-printable (= is =3D)",
        GOOD, cte="quoted-printable"))
    broken("broken-unknown-cte.eml", "the armored part in a transfer encoding no reader decodes "
           "the same (x-uuencode)", armored=GOOD, cte="x-uuencode")
    broken("broken-duplicate-boundary.eml", "boundary given twice: readers pick either",
           armored=GOOD, ctype='multipart/encrypted; protocol="application/pgp-encrypted";'
           '\n\tboundary="LtN3B8k2dQ4oYx7sZ0vRwAcE"; boundary="other"')
    broken("header-not-a-field.eml", "a header line without a colon above Content-Type: "
           "Postfix ends the header there, readers see text/plain", armored=GOOD,
           extra=("This line is no field",))
    broken("header-space-before-colon.eml", "'Content-Type :' above the real one: Postfix "
           "makes it the field Content-Type, readers see text/plain", armored=GOOD,
           extra=("Content-Type : text/plain",))
    broken("header-blank-continuation.eml", "a header line of only a space: a continuation to "
           "some readers, the end of the header to others", armored=GOOD, extra=(" ",))
    broken("header-content-type-comment.eml", "a comment in Content-Type: Python's email "
           "reads the type as 'multipart/encrypted (pgp/mime)'", armored=GOOD,
           ctype='Multipart/Encrypted (PGP/MIME); protocol="application/pgp-encrypted";'
           '\n\tboundary="LtN3B8k2dQ4oYx7sZ0vRwAcE"')
    broken("from-space-before-colon.eml", "'From :' of another user above the sender's own: "
           "Postfix makes it a first From and OpenDKIM signs both", armored=GOOD,
           extra=('From : "Someone" <bob@chat.example.org>',))


def other_corpus():
    message("plain.eml", head("plain", "unencrypted text", "text/plain; charset=utf-8") +
            "Hello Bob, this is cleartext.\n")
    message("plain-lf.eml", head("plain-lf", "unencrypted text with bare LF line ends",
                                 "text/plain; charset=utf-8") + "Hello Bob.\n", crlf=False)
    message("plain-no-from.eml", head("plain-no-from", "no From: field at all",
                                      "text/plain", sender=None) + "Who sent this?\n")
    setup = armor(packet(3, skesk("asm")) + packet(18, seipd("asm", 400)),
                  headers=("Passphrase-Format: numeric9x4", "Passphrase-Begin: 71"))
    asm_parts = [
        text_part("This message contains all information to transfer your Autocrypt settings "
                  "along with your secret key securely from your original device."),
        text_part("<html><body><pre>\n" + setup + "</pre></body></html>",
                  ctype='application/autocrypt-setup; name="autocrypt-setup-message.html"'),
    ]
    message("asm.eml", multipart(
        "asm", "Autocrypt Setup Message: allowed only when mailed to oneself", asm_parts,
        subject="Autocrypt Setup Message", extra=("Autocrypt-Setup-Message: v1",)))
    message("asm-wrong-subject.eml", multipart(
        "asm-wrong-subject", "like asm.eml with another subject", asm_parts,
        subject="Autocrypt Setup Message, really", extra=("Autocrypt-Setup-Message: v1",)))
    message("asm-not-mixed.eml", multipart(
        "asm-not-mixed", "like asm.eml but multipart/alternative", asm_parts, subtype="alternative",
        subject="Autocrypt Setup Message", extra=("Autocrypt-Setup-Message: v1",)))
    mdn_parts = [
        text_part("This is a receipt notification."),
        text_part(f"Reporting-UA: Delta Chat\nOriginal-Recipient: rfc822;{ALICE}\n"
                  f"Final-Recipient: rfc822;{ALICE}\nOriginal-Message-ID: <x1@example.net>\n"
                  "Disposition: manual-action/MDN-sent-automatically; displayed",
                  ctype="message/disposition-notification"),
    ]
    message("mdn.eml", multipart(
        "mdn", "an unencrypted read receipt (MDN): no exception in either direction", mdn_parts,
        subtype="report", params="; report-type=disposition-notification",
        subject="Receipt Notification", extra=("Auto-Submitted: auto-replied",)))
    daemon = "MAILER-DAEMON@mx.example.net"
    bounce_parts = [
        text_part("This is the mail system at host mx.example.net.\n\n"
                  "I'm sorry to have to inform you that your message could not be delivered."),
        text_part(f"Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; {ALICE}\n"
                  "Action: failed\nStatus: 5.1.1", ctype="message/delivery-status"),
        text_part("From: <bob@example.net>\nSubject: [...]", ctype="text/rfc822-headers"),
    ]
    report = "; report-type=delivery-status"
    message("bounce.eml", multipart(
        "bounce", "a bounce: Auto-Submitted, From: mailer-daemon, multipart/report",
        bounce_parts, subtype="report", params=report, sender=None,
        subject="Undelivered Mail Returned to Sender",
        extra=(f"From: Mail Delivery System <{daemon}>", "Auto-Submitted: auto-replied")))
    message("bounce-auto-submitted-no.eml", multipart(
        "bounce-auto-submitted-no", "like bounce.eml but Auto-Submitted: no",
        bounce_parts, subtype="report", params=report, sender=daemon,
        extra=("Auto-Submitted: no",)))
    message("bounce-no-auto-submitted.eml", multipart(
        "bounce-no-auto-submitted", "like bounce.eml without Auto-Submitted",
        bounce_parts, subtype="report", params=report, sender=daemon))
    message("bounce-not-report.eml", multipart(
        "bounce-not-report", "from mailer-daemon, Auto-Submitted, but multipart/mixed",
        bounce_parts, sender=daemon, extra=("Auto-Submitted: auto-generated",)))
    message("bounce-not-daemon.eml", multipart(
        "bounce-not-daemon", "Auto-Submitted multipart/report, but from a person",
        bounce_parts, subtype="report", params=report, sender="mailer-daemon.fan@example.net",
        extra=("Auto-Submitted: auto-replied",)))


def main():
    encrypted_corpus()
    broken_corpus()
    securejoin_corpus()
    other_corpus()
    daemon_view_corpus()
    os.makedirs(OUT, exist_ok=True)
    for name, text in sorted(MESSAGES.items()):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(text.encode("ascii"))
    print(f"{len(MESSAGES)} messages in {OUT}")


if __name__ == "__main__":
    main()
