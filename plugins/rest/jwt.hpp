// JSON Web Tokens signed with an instance's private key (RS256, ES256), for OAuth 2.0
// client credentials with a JWT assertion (RFC 7523), and the base64 they need. OpenSSL.
#pragma once

#include <string>
#include <string_view>

namespace junction::rest {

std::string base64(std::string_view bytes);
std::string base64url(std::string_view bytes);

// header.claims.signature. Throws sdk::Error(JN_ERR_INVALID_CONFIG) when the key cannot be
// read or does not fit the algorithm (the message never contains the key).
std::string sign_jwt(std::string_view header_json, std::string_view claims_json, std::string_view private_key_pem,
                     std::string_view algorithm);

// 16 random bytes as hex (a JWT id).
std::string random_id();

}  // namespace junction::rest
