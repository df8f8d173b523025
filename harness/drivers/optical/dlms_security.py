"""The client's keys and the ciphered LN context (security suite 0) of a DLMS session.

:class:`HlsKeys` holds the meter's global unicast encryption key and authentication key (from
the slot's secrets; never shown). :class:`ClientCipher` protects what the client sends with
glo-ciphering (authenticated and encrypted, our system title and a rising invocation
counter) and deciphers what the meter answers (its system title from the AARE, its invocation
counter required to rise: a replayed answer is refused).
"""

from __future__ import annotations

import dataclasses

from harness.errors import BenchConfigError
from harness.protocols.dlms import CipheredApdu, DlmsSecurityError, protect, unprotect
from harness.protocols.dlms.security import AUTHENTICATED_ENCRYPTED

__all__ = ["ClientCipher", "HlsKeys"]


@dataclasses.dataclass(frozen=True)
class HlsKeys:
    """The meter's security suite 0 keys for HLS-GMAC (16 bytes each, never shown)."""

    encryption_key: bytes = dataclasses.field(repr=False)
    authentication_key: bytes = dataclasses.field(repr=False)

    def __post_init__(self) -> None:
        for what, key in (("encryption", self.encryption_key),
                          ("authentication", self.authentication_key)):
            if len(key) != 16:
                raise BenchConfigError(f"the DLMS {what} key has {len(key)} bytes",
                                       expected="16 bytes (32 hex digits)")

    @classmethod
    def from_hex(cls, encryption_key: str, authentication_key: str) -> HlsKeys:
        """Keys from their hex text (as secrets hold them); the text never shows in errors."""
        def parse(text: str, what: str) -> bytes:
            try:
                return bytes.fromhex(text.strip())
            except ValueError:
                raise BenchConfigError(f"the DLMS {what} key is not hex",
                                       expected="32 hex digits") from None
        return cls(parse(encryption_key, "encryption"), parse(authentication_key,
                                                               "authentication"))


class ClientCipher:
    """Glo-ciphering of one association, client side."""

    def __init__(self, keys: HlsKeys, system_title: bytes) -> None:
        self.keys = keys
        self.system_title = system_title
        self.server_title: bytes | None = None  # from the AARE's responding-AP-title
        self.counter = 0
        self._server_counter = -1

    def seal(self, plain: bytes) -> bytes:
        """A plain APDU as its glo-ciphered form (SC 0x30, the next invocation counter)."""
        self.counter += 1
        return protect(plain, key=self.keys.encryption_key,
                       auth_key=self.keys.authentication_key, system_title=self.system_title,
                       invocation_counter=self.counter,
                       security_control=AUTHENTICATED_ENCRYPTED)

    def open(self, apdu: bytes | CipheredApdu) -> bytes:
        """Decipher the meter's answer; DlmsSecurityError if it does not authenticate, is not
        authenticated at all, or repeats an invocation counter."""
        if self.server_title is None:
            raise DlmsSecurityError("security: the meter's system title is unknown",
                                    expected="the AARE's responding-AP-title")
        framed = apdu if isinstance(apdu, CipheredApdu) else CipheredApdu.decode(apdu)
        if not framed.security_control & 0x10:
            raise DlmsSecurityError("security: an unauthenticated answer",
                                    expected="security control 0x10 or 0x30")
        if framed.invocation_counter <= self._server_counter:
            raise DlmsSecurityError(f"security: the meter's invocation counter "
                                    f"{framed.invocation_counter} did not rise",
                                    expected=f"above {self._server_counter}")
        plain, _ = unprotect(framed, key=self.keys.encryption_key,
                             auth_key=self.keys.authentication_key,
                             system_title=self.server_title)
        self._server_counter = framed.invocation_counter
        return plain
