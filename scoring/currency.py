"""Money: ISO 4217 currency codes with their minor units, exact amounts and locale formatting."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Final, Literal

# The active ISO 4217 codes and the number of decimals (minor units) of each. Funds codes,
# precious metals and the testing/no-currency codes (XTS, XXX) are left out: no deal is priced
# in them.
MINOR_UNITS: Final[dict[str, int]] = {
    "AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "ANG": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2,
    "AZN": 2, "BAM": 2, "BBD": 2, "BDT": 2, "BGN": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2,
    "BOB": 2, "BRL": 2, "BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2, "CAD": 2, "CDF": 2,
    "CHF": 2, "CLP": 0, "CNY": 2, "COP": 2, "CRC": 2, "CUP": 2, "CVE": 2, "CZK": 2, "DJF": 0,
    "DKK": 2, "DOP": 2, "DZD": 2, "EGP": 2, "ERN": 2, "ETB": 2, "EUR": 2, "FJD": 2, "FKP": 2,
    "GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2, "HKD": 2,
    "HNL": 2, "HTG": 2, "HUF": 2, "IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0,
    "JMD": 2, "JOD": 3, "JPY": 0, "KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0,
    "KWD": 3, "KYD": 2, "KZT": 2, "LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3,
    "MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2,
    "MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2, "MZN": 2, "NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2,
    "NPR": 2, "NZD": 2, "OMR": 3, "PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2,
    "PYG": 0, "QAR": 2, "RON": 2, "RSD": 2, "RUB": 2, "RWF": 0, "SAR": 2, "SBD": 2, "SCR": 2,
    "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2, "SOS": 2, "SRD": 2, "SSP": 2, "STN": 2,
    "SVC": 2, "SYP": 2, "SZL": 2, "THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2,
    "TTD": 2, "TWD": 2, "TZS": 2, "UAH": 2, "UGX": 0, "USD": 2, "UYU": 2, "UYW": 4, "UZS": 2,
    "VED": 2, "VES": 2, "VND": 0, "VUV": 0, "WST": 2, "XAF": 0, "XCD": 2, "XCG": 2, "XOF": 0,
    "XPF": 0, "YER": 2, "ZAR": 2, "ZMW": 2, "ZWG": 2,
}  # fmt: skip

# Symbols people read without a second thought; every other currency shows its code.
_SYMBOLS: Final[dict[str, str]] = {
    "JPY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "KRW": "₩", "INR": "₹", "CNY": "CN¥",
}  # fmt: skip
MAX_DIGITS: Final = 18
"""Digits an amount may have in all (a 64-bit integer of minor units holds them)."""


class MoneyError(ValueError):
    """An amount or currency that cannot be stored exactly; the message says why."""


def check_currency(code: str) -> str:
    """The ISO 4217 code, upper-cased, or MoneyError."""
    upper = code.strip().upper()
    if upper not in MINOR_UNITS:
        raise MoneyError(f"unknown currency {code!r}: give an ISO 4217 code such as JPY or USD")
    return upper


@dataclass(frozen=True)
class Money:
    """An exact amount in one currency, also held as an integer of minor units for sums."""

    amount: Decimal
    currency: str

    @property
    def minor(self) -> int:
        return int(self.amount.scaleb(MINOR_UNITS[self.currency]))

    @classmethod
    def of_minor(cls, minor: int, currency: str) -> Money:
        return cls(Decimal(minor).scaleb(-MINOR_UNITS[currency]), currency)


def parse_money(amount: object, currency: str) -> Money:
    """A decimal string (or integer) in ``currency``; refused when not exact in its minor units.

    Floats are refused: ``0.1`` as a JSON number is already not 0.1, and money must be exact.
    """
    code = check_currency(currency)
    if isinstance(amount, bool) or not isinstance(amount, str | int):
        raise MoneyError('amount must be a decimal string such as "3200000" or "32000.50"')
    text = str(amount).strip()
    try:
        if "_" in text:  # Decimal reads "1_000"; a CRM never means that
            raise InvalidOperation
        value = Decimal(text)
    except InvalidOperation:
        raise MoneyError(f"amount {text[:40]!r} is not a number") from None
    if not value.is_finite():
        raise MoneyError(f"amount {str(amount)[:40]!r} is not a finite number")
    if value < 0:
        raise MoneyError("amount cannot be negative")
    places = MINOR_UNITS[code]
    if value.adjusted() >= MAX_DIGITS - places:
        raise MoneyError(f"amount {text[:40]} is too large")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if -exponent > places and value != value.quantize(Decimal(1).scaleb(-places)):
        raise MoneyError(f"amount {text} has more decimals than {code} has ({places})")
    value = value.quantize(Decimal(1).scaleb(-places))
    return Money(value, code)


def format_money(money: Money, language: Literal["en", "ja"] = "en") -> str:
    """``¥3,200,000``, ``$32,000.00``, ``CHF 1,250.00`` (``1,250.00 CHF`` in Japanese)."""
    places = MINOR_UNITS[money.currency]
    number = f"{money.amount:,.{places}f}"
    symbol = _SYMBOLS.get(money.currency)
    if symbol is not None:
        return f"{symbol}{number}"
    return f"{number} {money.currency}" if language == "ja" else f"{money.currency} {number}"
