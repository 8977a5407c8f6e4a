"""Pure parsing: bytes in, structured values out. No I/O, no database, never raises on input."""

from intel.parse.direction import Identity, classify_direction
from intel.parse.folders import folder_role
from intel.parse.message import PARSER_VERSION, parse_message
from intel.parse.model import Address, Attachment, ParsedMessage
from intel.parse.quotes import split_reply
from intel.parse.signature import split_signature

__all__ = [
    "PARSER_VERSION",
    "Address",
    "Attachment",
    "Identity",
    "ParsedMessage",
    "classify_direction",
    "folder_role",
    "parse_message",
    "split_reply",
    "split_signature",
]
