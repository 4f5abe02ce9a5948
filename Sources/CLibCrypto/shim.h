// OpenSSL 3's libcrypto, as the LibCrypto target uses it. Only LibCrypto imports this module.
#include <openssl/evp.h>
#include <openssl/sha.h>
