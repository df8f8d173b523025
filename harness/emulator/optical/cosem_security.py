"""An emulated meter's DLMS security: its keys, HLS-GMAC (mechanism 5) and the ciphered context.

Each emulated meter has its own global unicast encryption key, authentication key and system
title, drawn from its seed like the optical password (:func:`meter_keys`; the bench gives them
to ``emulator:`` secret references as ``dlms_encryption_key`` / ``dlms_authentication_key``).
:class:`AssociationSecurity` is the server half of one association: the 4-pass HLS exchange
(StoC in the AARE, f(StoC) checked in reply_to_HLS_authentication, f(CtoS) answered) and,
when the client asked for the ciphered LN context, the glo-/general-glo-ciphering of every
APDU with security suite 0 (replayed invocation counters refused).
"""

from __future__ import annotations

import os
import random
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from harness.emulator.world.faults import stable_seed
from harness.protocols.dlms import (
    AARQ,
    CipheredApdu,
    DlmsSecurityError,
    check_hls_gmac_proof,
    hls_gmac_proof,
    protect,
    unprotect,
)
from harness.protocols.dlms.security import (
    AUTHENTICATED,
    AUTHENTICATED_ENCRYPTED,
    GENERAL_DED_CIPHERING,
    GENERAL_GLO_CIPHERING,
    SERVICE_SPECIFIC_TAGS,
)

if TYPE_CHECKING:
    from harness.emulator.world.device import EmulatedDevice

CHALLENGE_LENGTH = 16
"""Length of the meter's StoC (the Green Book allows 8 to 64 bytes)."""


@dataclass
class MeterKeys:
    """A meter's security suite 0 keys and system title, and its invocation counter (which
    never goes back while the meter lives, across associations)."""

    system_title: bytes
    encryption_key: bytes = field(repr=False)
    authentication_key: bytes = field(repr=False)
    invocation_counter: int = 0
    client_title: bytes = b""
    """The calling-AP-title of the last secured association (class 64 attribute 4)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def next_counter(self) -> int:
        """The next invocation counter for something the meter protects."""
        with self._lock:
            self.invocation_counter += 1
            return self.invocation_counter

    def secret(self, key: str) -> str | None:
        """A key as hex, for the ``emulator:`` secret ``dlms_encryption_key`` /
        ``dlms_authentication_key`` (None for other names)."""
        chosen = {"dlms_encryption_key": self.encryption_key,
                  "dlms_authentication_key": self.authentication_key}.get(key)
        return None if chosen is None else chosen.hex().upper()


def meter_keys(device: EmulatedDevice) -> MeterKeys:
    """The meter's own keys, drawn from its seed (like a factory key); its system title is its
    three-letter manufacturer flag followed by five bytes of its own."""
    rng = random.Random(stable_seed(device.seed, "dlms-keys"))
    flag = device.model.optical_flag.encode("ascii", "replace")[:3].ljust(3, b"X")
    return MeterKeys(flag + rng.randbytes(5), rng.randbytes(16), rng.randbytes(16))


class AssociationSecurity:
    """The security of one association on the meter side (HLS and ciphering)."""

    def __init__(self, keys: MeterKeys, aarq: AARQ, *, ciphered: bool, hls: bool) -> None:
        title = aarq.calling_ap_title
        if title is None or len(title) != 8:
            raise DlmsSecurityError("security: the AARQ carries no 8-byte calling-AP-title",
                                    expected="the client's system title")
        self.keys = keys
        self.client_title = keys.client_title = title
        self.ciphered = ciphered
        self.hls = hls
        self.client_challenge = aarq.authentication_value or b""
        if hls and not 8 <= len(self.client_challenge) <= 64:
            raise DlmsSecurityError(f"security: a CtoS of {len(self.client_challenge)} bytes",
                                    expected="8 to 64 bytes")
        self.server_challenge = os.urandom(CHALLENGE_LENGTH) if hls else b""
        self.authenticated = not hls
        self._client_counter = -1

    # -- HLS -----------------------------------------------------------------------------------

    def reply_to_hls(self, proof: bytes) -> bytes | None:
        """Check the client's f(StoC); on success the association is authenticated and the
        answer is f(CtoS), else None (a wrong key or a wrong answer)."""
        try:
            check_hls_gmac_proof(proof, self.server_challenge, key=self.keys.encryption_key,
                                 auth_key=self.keys.authentication_key,
                                 system_title=self.client_title)
        except DlmsSecurityError:
            return None
        self.authenticated = True
        return hls_gmac_proof(self.client_challenge, key=self.keys.encryption_key,
                              auth_key=self.keys.authentication_key,
                              system_title=self.keys.system_title,
                              invocation_counter=self.keys.next_counter())

    # -- ciphering -----------------------------------------------------------------------------

    def open(self, apdu: bytes | CipheredApdu) -> tuple[bytes, bool]:
        """Decipher a request (checking its tag and that its invocation counter moved on):
        the plain APDU and whether it came general-glo-ciphered."""
        framed = apdu if isinstance(apdu, CipheredApdu) else CipheredApdu.decode(apdu)
        if framed.security_control & 0x10 != AUTHENTICATED:
            raise DlmsSecurityError("security: an unauthenticated request",
                                    expected="security control 0x10 or 0x30")
        if framed.system_title is not None and framed.system_title != self.client_title:
            raise DlmsSecurityError("security: general-ciphering from another system title",
                                    expected="the calling-AP-title of the association")
        if framed.invocation_counter <= self._client_counter:
            raise DlmsSecurityError(f"security: invocation counter {framed.invocation_counter} "
                                    "replayed", expected=f"above {self._client_counter}")
        plain, _ = unprotect(framed, key=self.keys.encryption_key,
                             auth_key=self.keys.authentication_key, system_title=self.client_title)
        self._client_counter = framed.invocation_counter
        return plain, framed.tag in (GENERAL_GLO_CIPHERING, GENERAL_DED_CIPHERING)

    def seal(self, plain: bytes, *, general: bool) -> bytes:
        """Protect an answer as the request came (glo- or general-glo-ciphering, SC 0x30)."""
        return protect(plain, key=self.keys.encryption_key, auth_key=self.keys.authentication_key,
                       system_title=self.keys.system_title,
                       invocation_counter=self.keys.next_counter(),
                       security_control=AUTHENTICATED_ENCRYPTED, general=general)


def is_ciphered(apdu: bytes) -> bool:
    """Whether an APDU is a glo-, ded- or general-ciphered one."""
    return bool(apdu) and (apdu[0] in SERVICE_SPECIFIC_TAGS
                           or apdu[0] in (GENERAL_GLO_CIPHERING, GENERAL_DED_CIPHERING))
