"""OAuth 2.0 for mail providers (Zoho's data centers, refresh, revoke) and the token stores behind it."""

from intel.auth.stores import (
    DuckDBTokenStore,
    EncryptedTokenStore,
    FileTokenStore,
    MemoryTokenStore,
    OAuthToken,
    SQLiteTokenStore,
    TokenStore,
    open_token_store,
)
from intel.auth.zoho import DATA_CENTERS, DataCenter, ZohoOAuth, data_center, oauth_for_source

__all__ = [
    "DATA_CENTERS",
    "DataCenter",
    "DuckDBTokenStore",
    "EncryptedTokenStore",
    "FileTokenStore",
    "MemoryTokenStore",
    "OAuthToken",
    "SQLiteTokenStore",
    "TokenStore",
    "ZohoOAuth",
    "data_center",
    "oauth_for_source",
    "open_token_store",
]
