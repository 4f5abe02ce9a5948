// OpenSSL 3's libcrypto, as the LibCrypto target uses it. Only LibCrypto imports this module.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
