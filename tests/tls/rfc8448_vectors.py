"""RFC 8448 (Example Handshake Traces for TLS 1.3, January 2019), the values of
sections 2–5 as the RFC prints them: ``TRACE[section]`` is a list of
``(step, label, hex)`` in the order of the document, ``step`` being the line starting
with ``{client}`` or ``{server}`` and ``label`` what precedes "(N octets)".
"""

from __future__ import annotations

RSA_KEY = {
    "modulus": (
        "b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc"
        "9a95137ace6c1af19eaa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38"
        "e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d3"
        "5a8d88d79f7f1e3f"
    ),
    "public exponent": ("010001"),
    "private exponent": (
        "04dea705d43a6ea7209dd8072111a83c81e322a59278b33480641eaf7c0a6985b8e31c44f6de62e1"
        "b4c2309f6126e77b7c41e923314bbfa3881305dc1217f16c819ce538e922f369828d0e57195d8c84"
        "88460207b2faa726bcf708bbd7db7f679f893492fc2a622e08970aac441ce4e0c3088df25ae67923"
        "3df8a3bda2ff9941"
    ),
    "prime1": (
        "e435fb7cc83737756dacea96ab7f59a2cc1069db7deb190e17e33a532b273f30a327aa0aaabc58cd"
        "67466af9845fadc675fe094af92c4bd1f2c1bc33dd2e0515"
    ),
    "prime2": (
        "cabd3bc0e0438664c8d4cc9f99977a94d9bbfead8e43870abae3f7eb8b4e0eee8af1d9b4719ba619"
        "6cf2cbbaeeebf8b3490afe9e9ffa74a88aa51fc645629303"
    ),
    "exponent1": (
        "3f57345c27fe1b687e6e761627b78b1b826433dd760fa0bea6a6acf39490aa1b47cda4869d68f584"
        "dd5b5029bd32093b8258661fe715025e5d70a45a08d3d319"
    ),
    "exponent2": (
        "183da01363bd2f2885cacbdc9964bf4764f1517636f86401286f71893c52ccfe40a6c23d0d086b47"
        "c6fb10d8fd1041e04def7e9a40ce957c417794e10412d139"
    ),
    "coefficient": (
        "839ca9a085e4286b2c90e466997a2c681f21339aa3477814e4dec11833050ed50dd13cc038048a43"
        "c59b2acc416889c037665fe5afa605969f8c01dfa5ca969d"
    ),
}

TRACE: dict[int, list[tuple[str, str, str]]] = {
    3: [
        (
            "{client}  create an ephemeral x25519 key pair:",
            "private key",
            "49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005",
        ),
        (
            "{client}  create an ephemeral x25519 key pair:",
            "public key",
            "99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c",
        ),
        (
            "{client}  construct a ClientHello handshake message:",
            "ClientHello",
            "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece70000"
            "06130113031302010000910000000b0009000006736572766572ff01000100000a00140012001d00"
            "17001800190100010101020103010400230000003300260024001d002099381de560e4bd43d23d8e"
            "435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603"
            "020308040805080604010501060102010402050206020202002d00020101001c00024001",
        ),
        (
            "{client}  send handshake record:",
            "payload",
            "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece70000"
            "06130113031302010000910000000b0009000006736572766572ff01000100000a00140012001d00"
            "17001800190100010101020103010400230000003300260024001d002099381de560e4bd43d23d8e"
            "435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603"
            "020308040805080604010501060102010402050206020202002d00020101001c00024001",
        ),
        (
            "{client}  send handshake record:",
            "complete record",
            "16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef628302"
            "4dece7000006130113031302010000910000000b0009000006736572766572ff01000100000a0014"
            "0012001d0017001800190100010101020103010400230000003300260024001d002099381de560e4"
            "bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e04"
            "0305030603020308040805080604010501060102010402050206020202002d00020101001c000240"
            "01",
        ),
        (
            '{server}  extract secret "early":',
            "IKM",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            '{server}  extract secret "early":',
            "secret",
            "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
        ),
        (
            "{server}  create an ephemeral x25519 key pair:",
            "private key",
            "b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21e",
        ),
        (
            "{server}  create an ephemeral x25519 key pair:",
            "public key",
            "c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f",
        ),
        (
            "{server}  construct a ServerHello handshake message:",
            "ServerHello",
            "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e269280013"
            "0100002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b0"
            "4e751f0f002b00020304",
        ),
        (
            '{server}  derive secret for handshake "tls13 derived":',
            "PRK",
            "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
        ),
        (
            '{server}  derive secret for handshake "tls13 derived":',
            "hash",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            '{server}  derive secret for handshake "tls13 derived":',
            "info",
            "00200d746c733133206465726976656420e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
            "4ca495991b7852b855",
        ),
        (
            '{server}  derive secret for handshake "tls13 derived":',
            "expanded",
            "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba",
        ),
        (
            '{server}  extract secret "handshake":',
            "salt",
            "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba",
        ),
        (
            '{server}  extract secret "handshake":',
            "IKM",
            "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d",
        ),
        (
            '{server}  extract secret "handshake":',
            "secret",
            "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac",
        ),
        (
            '{server}  derive secret "tls13 c hs traffic":',
            "PRK",
            "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac",
        ),
        (
            '{server}  derive secret "tls13 c hs traffic":',
            "hash",
            "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8",
        ),
        (
            '{server}  derive secret "tls13 c hs traffic":',
            "info",
            "002012746c7331332063206873207472616666696320860c06edc07858ee8e78f0e7428c58edd6b4"
            "3f2ca3e6e95f02ed063cf0e1cad8",
        ),
        (
            '{server}  derive secret "tls13 c hs traffic":',
            "expanded",
            "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
        ),
        (
            '{server}  derive secret "tls13 s hs traffic":',
            "PRK",
            "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac",
        ),
        (
            '{server}  derive secret "tls13 s hs traffic":',
            "hash",
            "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8",
        ),
        (
            '{server}  derive secret "tls13 s hs traffic":',
            "info",
            "002012746c7331332073206873207472616666696320860c06edc07858ee8e78f0e7428c58edd6b4"
            "3f2ca3e6e95f02ed063cf0e1cad8",
        ),
        (
            '{server}  derive secret "tls13 s hs traffic":',
            "expanded",
            "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
        ),
        (
            '{server}  derive secret for master "tls13 derived":',
            "PRK",
            "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac",
        ),
        (
            '{server}  derive secret for master "tls13 derived":',
            "hash",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            '{server}  derive secret for master "tls13 derived":',
            "info",
            "00200d746c733133206465726976656420e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
            "4ca495991b7852b855",
        ),
        (
            '{server}  derive secret for master "tls13 derived":',
            "expanded",
            "43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4",
        ),
        (
            '{server}  extract secret "master":',
            "salt",
            "43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4",
        ),
        (
            '{server}  extract secret "master":',
            "IKM",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            '{server}  extract secret "master":',
            "secret",
            "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919",
        ),
        (
            "{server}  send handshake record:",
            "payload",
            "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e269280013"
            "0100002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b0"
            "4e751f0f002b00020304",
        ),
        (
            "{server}  send handshake record:",
            "complete record",
            "160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3"
            "e2692800130100002e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833d"
            "f1dd69b1b04e751f0f002b00020304",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "PRK",
            "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "key expanded",
            "3fce516009c21727d0f2e4e86ee403bc",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "iv expanded",
            "5d313eb2671276ee13000b30",
        ),
        (
            "{server}  construct an EncryptedExtensions handshake message:",
            "EncryptedExtensions",
            "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000",
        ),
        (
            "{server}  construct a Certificate handshake message:",
            "Certificate",
            "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b"
            "0500300e310c300a06035504031303727361301e170d3136303733303031323335395a170d323630"
            "3733303031323335395a300e310c300a0603550403130372736130819f300d06092a864886f70d01"
            "0101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826"
            "d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced43120998e187a80ee0cc"
            "b0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0"
            "3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304"
            "023000300b0603551d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5"
            "b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf3"
            "6b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3e"
            "b7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b4"
            "2b4de10000",
        ),
        (
            "{server}  construct a CertificateVerify handshake message:",
            "CertificateVerify",
            "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b"
            "0b7abc90db78e2d33a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee51"
            "1f602957b15411ac027671459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e"
            "063dda65cdf5aea20d53dfacd42f74f3",
        ),
        (
            '{server}  calculate finished "tls13 finished":',
            "PRK",
            "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
        ),
        ('{server}  calculate finished "tls13 finished":', "hash", ""),
        (
            '{server}  calculate finished "tls13 finished":',
            "info",
            "00200e746c7331332066696e697368656400",
        ),
        (
            '{server}  calculate finished "tls13 finished":',
            "expanded",
            "008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8",
        ),
        (
            '{server}  calculate finished "tls13 finished":',
            "finished",
            "9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718",
        ),
        (
            "{server}  construct a Finished handshake message:",
            "Finished",
            "140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718",
        ),
        (
            "{server}  send handshake record:",
            "payload",
            "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000"
            "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b"
            "0500300e310c300a06035504031303727361301e170d3136303733303031323335395a170d323630"
            "3733303031323335395a300e310c300a0603550403130372736130819f300d06092a864886f70d01"
            "0101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826"
            "d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced43120998e187a80ee0cc"
            "b0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0"
            "3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304"
            "023000300b0603551d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5"
            "b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf3"
            "6b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3e"
            "b7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b4"
            "2b4de100000f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52"
            "f1fda8477b0b7abc90db78e2d33a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe"
            "8d4859ee511f602957b15411ac027671459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be15"
            "2a3da5043e063dda65cdf5aea20d53dfacd42f74f3140000209b9b141d906337fbd2cbdce71df4de"
            "da4ab42c309572cb7fffee5454b78f0718",
        ),
        (
            "{server}  send handshake record:",
            "complete record",
            "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40a"
            "a2b8ea73f848a7ca07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f5261"
            "34aadc7fc78c4b729df828b5ecf7b13bd9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183e"
            "f3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2e"
            "d65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd610928d809810e4b7ed1a"
            "8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a8"
            "9441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63"
            "d3e688611ea5e22f4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26"
            "f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b659622245317b49eeda0c6258f1"
            "00d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a6c7178af36879018e3f252107f24"
            "3d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7c"
            "ca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe"
            "5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8af"
            "e67f76913fa388cb5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614"
            "636c0b9b68c19ed2e31c0b3b66763038ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f"
            "60f0504de93b5b845e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5"
            "d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e750edc53370d2b",
        ),
        (
            '{server}  derive secret "tls13 c ap traffic":',
            "PRK",
            "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919",
        ),
        (
            '{server}  derive secret "tls13 c ap traffic":',
            "hash",
            "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13",
        ),
        (
            '{server}  derive secret "tls13 c ap traffic":',
            "info",
            "002012746c73313320632061702074726166666963209608102a0f1ccc6db6250b7b7e417b1a000e"
            "aada3daae4777a7686c9ff83df13",
        ),
        (
            '{server}  derive secret "tls13 c ap traffic":',
            "expanded",
            "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
        ),
        (
            '{server}  derive secret "tls13 s ap traffic":',
            "PRK",
            "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919",
        ),
        (
            '{server}  derive secret "tls13 s ap traffic":',
            "hash",
            "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13",
        ),
        (
            '{server}  derive secret "tls13 s ap traffic":',
            "info",
            "002012746c73313320732061702074726166666963209608102a0f1ccc6db6250b7b7e417b1a000e"
            "aada3daae4777a7686c9ff83df13",
        ),
        (
            '{server}  derive secret "tls13 s ap traffic":',
            "expanded",
            "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
        ),
        (
            '{server}  derive secret "tls13 exp master":',
            "PRK",
            "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919",
        ),
        (
            '{server}  derive secret "tls13 exp master":',
            "hash",
            "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13",
        ),
        (
            '{server}  derive secret "tls13 exp master":',
            "info",
            "002010746c73313320657870206d6173746572209608102a0f1ccc6db6250b7b7e417b1a000eaada"
            "3daae4777a7686c9ff83df13",
        ),
        (
            '{server}  derive secret "tls13 exp master":',
            "expanded",
            "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "PRK",
            "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "key expanded",
            "9f02283b6c9c07efc26bb9f2ac92e356",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "iv expanded",
            "cf782b88dd83549aadf1e984",
        ),
        (
            "{server}  derive read traffic keys for handshake data:",
            "PRK",
            "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
        ),
        (
            "{server}  derive read traffic keys for handshake data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{server}  derive read traffic keys for handshake data:",
            "key expanded",
            "dbfaa693d1762c5b666af5d950258d01",
        ),
        (
            "{server}  derive read traffic keys for handshake data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{server}  derive read traffic keys for handshake data:",
            "iv expanded",
            "5bd3c71b836e0b76bb73265f",
        ),
        (
            '{client}  derive secret for handshake "tls13 derived":',
            "PRK",
            "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
        ),
        (
            '{client}  derive secret for handshake "tls13 derived":',
            "hash",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            '{client}  derive secret for handshake "tls13 derived":',
            "info",
            "00200d746c733133206465726976656420e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
            "4ca495991b7852b855",
        ),
        (
            '{client}  derive secret for handshake "tls13 derived":',
            "expanded",
            "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba",
        ),
        (
            '{client}  calculate finished "tls13 finished":',
            "PRK",
            "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
        ),
        ('{client}  calculate finished "tls13 finished":', "hash", ""),
        (
            '{client}  calculate finished "tls13 finished":',
            "info",
            "00200e746c7331332066696e697368656400",
        ),
        (
            '{client}  calculate finished "tls13 finished":',
            "expanded",
            "b80ad01015fb2f0bd65ff7d4da5d6bf83f84821d1f87fdc7d3c75b5a7b42d9c4",
        ),
        (
            '{client}  calculate finished "tls13 finished":',
            "finished",
            "a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61",
        ),
        (
            "{client}  construct a Finished handshake message:",
            "Finished",
            "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61",
        ),
        (
            "{client}  send handshake record:",
            "payload",
            "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61",
        ),
        (
            "{client}  send handshake record:",
            "complete record",
            "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac"
            "98fc46deb384bd1caeacab6867d726c40546",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "PRK",
            "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "key expanded",
            "17422dda596ed5d9acd890e3c63f5051",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "iv expanded",
            "5b78923dee08579033e523d9",
        ),
        (
            '{client}  derive secret "tls13 res master":',
            "PRK",
            "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919",
        ),
        (
            '{client}  derive secret "tls13 res master":',
            "hash",
            "209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d",
        ),
        (
            '{client}  derive secret "tls13 res master":',
            "info",
            "002010746c73313320726573206d617374657220209145a96ee8e2a122ff810047cc952684658d60"
            "49e86429426db87c54ad143d",
        ),
        (
            '{client}  derive secret "tls13 res master":',
            "expanded",
            "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c",
        ),
        (
            '{server}  generate resumption secret "tls13 resumption":',
            "PRK",
            "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c",
        ),
        ('{server}  generate resumption secret "tls13 resumption":', "hash", "0000"),
        (
            '{server}  generate resumption secret "tls13 resumption":',
            "info",
            "002010746c73313320726573756d7074696f6e020000",
        ),
        (
            '{server}  generate resumption secret "tls13 resumption":',
            "expanded",
            "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3",
        ),
        (
            "{server}  construct a NewSessionTicket handshake message:",
            "NewSessionTicket",
            "040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec900000000262a6494dc486d"
            "2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a1"
            "43efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3664d4e6da4d29ee03725a6a4dafc"
            "d0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5aea61764"
            "6fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d3570008002a00"
            "0400000400",
        ),
        (
            "{server}  send handshake record:",
            "payload",
            "040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec900000000262a6494dc486d"
            "2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a1"
            "43efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3664d4e6da4d29ee03725a6a4dafc"
            "d0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5aea61764"
            "6fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d3570008002a00"
            "0400000400",
        ),
        (
            "{server}  send handshake record:",
            "complete record",
            "17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d41d6af8f6b580dcf3"
            "d11d63c758db289a015940252f55713e061dc13e078891a38efbcf5753ad8ef170ad3c7353d16d9d"
            "a773b9ca7f2b9fa1b6c0d4a3d03f75e09c30ba1e62972ac46f75f7b981be63439b2999ce13064615"
            "139891d5e4c5b406f16e3fc181a77ca475840025db2f0a77f81b5ab05b94c01346755f69232c8651"
            "9d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe5137121c74bc2697687e248746"
            "d6df353005f3bce18696129c8153556b3b6c6779b37bf15985684f",
        ),
        (
            "{client}  send application_data record:",
            "payload",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627"
            "28292a2b2c2d2e2f3031",
        ),
        (
            "{client}  send application_data record:",
            "complete record",
            "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b39"
            "5bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4",
        ),
        (
            "{server}  send application_data record:",
            "payload",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627"
            "28292a2b2c2d2e2f3031",
        ),
        (
            "{server}  send application_data record:",
            "complete record",
            "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6df"
            "fc602dcb501a59a8fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d",
        ),
        ("{client}  send alert record:", "payload", "0100"),
        (
            "{client}  send alert record:",
            "complete record",
            "1703030013c9872760655666b74d7ff1153efd6db6d0b0e3",
        ),
        ("{server}  send alert record:", "payload", "0100"),
        (
            "{server}  send alert record:",
            "complete record",
            "1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9",
        ),
    ],
    4: [
        (
            "{client}  create an ephemeral x25519 key pair:",
            "private key",
            "bff91188283846dd6a2134ef7180ca2b0b14fb10dce707b5098c0dddc813b2df",
        ),
        (
            "{client}  create an ephemeral x25519 key pair:",
            "public key",
            "e4ffb68ac05f8d96c99da26698346c6be16482badddafe051a66b4f18d668f0b",
        ),
        (
            '{client}  extract secret "early":',
            "IKM",
            "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3",
        ),
        (
            '{client}  extract secret "early":',
            "secret",
            "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c",
        ),
        (
            "{client}  construct a ClientHello handshake message:",
            "ClientHello",
            "010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d950000"
            "06130113031302010001cd0000000b0009000006736572766572ff01000100000a00140012001d00"
            "170018001901000101010201030104003300260024001d0020e4ffb68ac05f8d96c99da26698346c"
            "6be16482badddafe051a66b4f18d668f0b002a0000002b0003020304000d0020001e040305030603"
            "020308040805080604010501060102010402050206020202002d00020101001c0002400100150057"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000002900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a"
            "34cb33fa90bf1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143ef"
            "d3ff5dd36d64e861be7fd61d2827db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc"
            "67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5aea617646fac"
            "5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb",
        ),
        (
            "{client}  calculate PSK binder:",
            "ClientHello prefix",
            "010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d950000"
            "06130113031302010001cd0000000b0009000006736572766572ff01000100000a00140012001d00"
            "170018001901000101010201030104003300260024001d0020e4ffb68ac05f8d96c99da26698346c"
            "6be16482badddafe051a66b4f18d668f0b002a0000002b0003020304000d0020001e040305030603"
            "020308040805080604010501060102010402050206020202002d00020101001c0002400100150057"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000002900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a"
            "34cb33fa90bf1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143ef"
            "d3ff5dd36d64e861be7fd61d2827db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc"
            "67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5aea617646fac"
            "5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb",
        ),
        (
            "{client}  calculate PSK binder:",
            "binder hash",
            "63224b2e4573f2d3454ca84b9d009a04f6be9e05711a8396473aefa01e924a14",
        ),
        (
            "{client}  calculate PSK binder:",
            "PRK",
            "69fe131a3bbad5d63c64eebcc30e395b9d8107726a13d074e389dbc8a4e47256",
        ),
        ("{client}  calculate PSK binder:", "hash", ""),
        ("{client}  calculate PSK binder:", "info", "00200e746c7331332066696e697368656400"),
        (
            "{client}  calculate PSK binder:",
            "expanded",
            "5588673e72cb59c87d220caffe94f2dea9a3b1609f7d50e90a48227db9ed7eaa",
        ),
        (
            "{client}  calculate PSK binder:",
            "finished",
            "3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d",
        ),
        (
            "{client}  send handshake record:",
            "payload",
            "010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d950000"
            "06130113031302010001cd0000000b0009000006736572766572ff01000100000a00140012001d00"
            "170018001901000101010201030104003300260024001d0020e4ffb68ac05f8d96c99da26698346c"
            "6be16482badddafe051a66b4f18d668f0b002a0000002b0003020304000d0020001e040305030603"
            "020308040805080604010501060102010402050206020202002d00020101001c0002400100150057"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000002900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a"
            "34cb33fa90bf1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143ef"
            "d3ff5dd36d64e861be7fd61d2827db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc"
            "67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5aea617646fac"
            "5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6aacb002120"
            "3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d",
        ),
        (
            "{client}  send handshake record:",
            "complete record",
            "1603010200010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876"
            "487d95000006130113031302010001cd0000000b0009000006736572766572ff01000100000a0014"
            "0012001d00170018001901000101010201030104003300260024001d0020e4ffb68ac05f8d96c99d"
            "a26698346c6be16482badddafe051a66b4f18d668f0b002a0000002b0003020304000d0020001e04"
            "0305030603020308040805080604010501060102010402050206020202002d00020101001c000240"
            "01001500570000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "000000000000000000000000002900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494"
            "dc486d2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f8"
            "2a03a143efd3ff5dd36d64e861be7fd61d2827db279cce145077d454a3664d4e6da4d29ee03725a6"
            "a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5ae"
            "a617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6"
            "aacb0021203add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d",
        ),
        (
            '{client}  derive secret "tls13 c e traffic":',
            "PRK",
            "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c",
        ),
        (
            '{client}  derive secret "tls13 c e traffic":',
            "hash",
            "08ad0fa05d7c7233b1775ba2ff9f4c5b8b59276b7f227f13a976245f5d960913",
        ),
        (
            '{client}  derive secret "tls13 c e traffic":',
            "info",
            "002011746c7331332063206520747261666669632008ad0fa05d7c7233b1775ba2ff9f4c5b8b5927"
            "6b7f227f13a976245f5d960913",
        ),
        (
            '{client}  derive secret "tls13 c e traffic":',
            "expanded",
            "3fbbe6a60deb66c30a32795aba0eff7eaa10105586e7be5c09678d63b6caab62",
        ),
        (
            '{client}  derive secret "tls13 e exp master":',
            "PRK",
            "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c",
        ),
        (
            '{client}  derive secret "tls13 e exp master":',
            "hash",
            "08ad0fa05d7c7233b1775ba2ff9f4c5b8b59276b7f227f13a976245f5d960913",
        ),
        (
            '{client}  derive secret "tls13 e exp master":',
            "info",
            "002012746c733133206520657870206d61737465722008ad0fa05d7c7233b1775ba2ff9f4c5b8b59"
            "276b7f227f13a976245f5d960913",
        ),
        (
            '{client}  derive secret "tls13 e exp master":',
            "expanded",
            "b2026866610937d7423e5be90862ccf24c0e6091186d34f812089ff5be2ef7df",
        ),
        (
            "{client}  derive write traffic keys for early application data:",
            "PRK",
            "3fbbe6a60deb66c30a32795aba0eff7eaa10105586e7be5c09678d63b6caab62",
        ),
        (
            "{client}  derive write traffic keys for early application data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{client}  derive write traffic keys for early application data:",
            "key expanded",
            "920205a5b7bf2115e6fc5c2942834f54",
        ),
        (
            "{client}  derive write traffic keys for early application data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{client}  derive write traffic keys for early application data:",
            "iv expanded",
            "6d475f0993c8e564610db2b9",
        ),
        ("{client}  send application_data record:", "payload", "414243444546"),
        (
            "{client}  send application_data record:",
            "complete record",
            "1703030017ab1df420e75c457a7cc5d2844f76d5aee4b4edbf049be0",
        ),
        (
            "{server}  create an ephemeral x25519 key pair:",
            "private key",
            "de5b4476e7b490b2652d338acbf2948066f255f9440e23b98fc69835298dc107",
        ),
        (
            "{server}  create an ephemeral x25519 key pair:",
            "public key",
            "121761ee42c333e1b9e77b60dd57c2053cd94512ab47f115e86eff50942cea31",
        ),
        (
            "{server}  construct a ServerHello handshake message:",
            "ServerHello",
            "0200005c03033ccfd2dec890222763472ae8136777c9d7358777bb66e91ea5122495f559ea2d0013"
            "0100003400290002000000330024001d0020121761ee42c333e1b9e77b60dd57c2053cd94512ab47"
            "f115e86eff50942cea31002b00020304",
        ),
        (
            '{server}  derive secret for handshake "tls13 derived":',
            "PRK",
            "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c",
        ),
        (
            '{server}  derive secret for handshake "tls13 derived":',
            "hash",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            '{server}  derive secret for handshake "tls13 derived":',
            "info",
            "00200d746c733133206465726976656420e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
            "4ca495991b7852b855",
        ),
        (
            '{server}  derive secret for handshake "tls13 derived":',
            "expanded",
            "5f1790bbd82c5e7d376ed2e1e52f8e6038c9346db61b43be9a52f77ef3998e80",
        ),
        (
            '{server}  extract secret "handshake":',
            "salt",
            "5f1790bbd82c5e7d376ed2e1e52f8e6038c9346db61b43be9a52f77ef3998e80",
        ),
        (
            '{server}  extract secret "handshake":',
            "IKM",
            "f44194756ff9ec9d25180635d66ea6824c6ab3bf179977be37f723570e7ccb2e",
        ),
        (
            '{server}  extract secret "handshake":',
            "secret",
            "005cb112fd8eb4ccc623bb88a07c64b3ede1605363fc7d0df8c7ce4ff0fb4ae6",
        ),
        (
            '{server}  derive secret "tls13 c hs traffic":',
            "PRK",
            "005cb112fd8eb4ccc623bb88a07c64b3ede1605363fc7d0df8c7ce4ff0fb4ae6",
        ),
        (
            '{server}  derive secret "tls13 c hs traffic":',
            "hash",
            "f736cb34fe25e701551bee6fd24c1cc7102a7daf9405cb15d97aafe16f757d03",
        ),
        (
            '{server}  derive secret "tls13 c hs traffic":',
            "info",
            "002012746c7331332063206873207472616666696320f736cb34fe25e701551bee6fd24c1cc7102a"
            "7daf9405cb15d97aafe16f757d03",
        ),
        (
            '{server}  derive secret "tls13 c hs traffic":',
            "expanded",
            "2faac08f851d35fea3604fcb4de82dc62c9b164a70974d0462e27f1ab278700f",
        ),
        (
            '{server}  derive secret "tls13 s hs traffic":',
            "PRK",
            "005cb112fd8eb4ccc623bb88a07c64b3ede1605363fc7d0df8c7ce4ff0fb4ae6",
        ),
        (
            '{server}  derive secret "tls13 s hs traffic":',
            "hash",
            "f736cb34fe25e701551bee6fd24c1cc7102a7daf9405cb15d97aafe16f757d03",
        ),
        (
            '{server}  derive secret "tls13 s hs traffic":',
            "info",
            "002012746c7331332073206873207472616666696320f736cb34fe25e701551bee6fd24c1cc7102a"
            "7daf9405cb15d97aafe16f757d03",
        ),
        (
            '{server}  derive secret "tls13 s hs traffic":',
            "expanded",
            "fe927ae271312e8bf0275b581c54eef020450dc4ecffaa05a1a35d27518e7803",
        ),
        (
            '{server}  derive secret for master "tls13 derived":',
            "PRK",
            "005cb112fd8eb4ccc623bb88a07c64b3ede1605363fc7d0df8c7ce4ff0fb4ae6",
        ),
        (
            '{server}  derive secret for master "tls13 derived":',
            "hash",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            '{server}  derive secret for master "tls13 derived":',
            "info",
            "00200d746c733133206465726976656420e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
            "4ca495991b7852b855",
        ),
        (
            '{server}  derive secret for master "tls13 derived":',
            "expanded",
            "e2f16030251df0874ba19b9aba257610bc6d531c1dd206df0ca6e84ae2a26742",
        ),
        (
            '{server}  extract secret "master":',
            "salt",
            "e2f16030251df0874ba19b9aba257610bc6d531c1dd206df0ca6e84ae2a26742",
        ),
        (
            '{server}  extract secret "master":',
            "IKM",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            '{server}  extract secret "master":',
            "secret",
            "e2d32d4ed66dd37897a0e80c84107503ce58bf8aad4cb55a5002d77ecb890ece",
        ),
        (
            "{server}  send handshake record:",
            "payload",
            "0200005c03033ccfd2dec890222763472ae8136777c9d7358777bb66e91ea5122495f559ea2d0013"
            "0100003400290002000000330024001d0020121761ee42c333e1b9e77b60dd57c2053cd94512ab47"
            "f115e86eff50942cea31002b00020304",
        ),
        (
            "{server}  send handshake record:",
            "complete record",
            "16030300600200005c03033ccfd2dec890222763472ae8136777c9d7358777bb66e91ea5122495f5"
            "59ea2d00130100003400290002000000330024001d0020121761ee42c333e1b9e77b60dd57c2053c"
            "d94512ab47f115e86eff50942cea31002b00020304",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "PRK",
            "fe927ae271312e8bf0275b581c54eef020450dc4ecffaa05a1a35d27518e7803",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "key expanded",
            "27c6bdc0a3dcea39a47326d79bc9e4ee",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "iv expanded",
            "9569ecdd4d0536705e9ef725",
        ),
        (
            "{server}  construct an EncryptedExtensions handshake message:",
            "EncryptedExtensions",
            "080000280026000a00140012001d00170018001901000101010201030104001c0002400100000000"
            "002a0000",
        ),
        (
            '{server}  calculate finished "tls13 finished":',
            "PRK",
            "fe927ae271312e8bf0275b581c54eef020450dc4ecffaa05a1a35d27518e7803",
        ),
        ('{server}  calculate finished "tls13 finished":', "hash", ""),
        (
            '{server}  calculate finished "tls13 finished":',
            "info",
            "00200e746c7331332066696e697368656400",
        ),
        (
            '{server}  calculate finished "tls13 finished":',
            "expanded",
            "4bb74cae7a5dc8914604c0bfbe2f0c062396883922bec8a15e2a9b532a5d392c",
        ),
        (
            '{server}  calculate finished "tls13 finished":',
            "finished",
            "48d3e0e1b3d907c6acff145e16090388c77b05c050b634ab1a88bbd0dd1a34b2",
        ),
        (
            "{server}  construct a Finished handshake message:",
            "Finished",
            "1400002048d3e0e1b3d907c6acff145e16090388c77b05c050b634ab1a88bbd0dd1a34b2",
        ),
        (
            "{server}  send handshake record:",
            "payload",
            "080000280026000a00140012001d00170018001901000101010201030104001c0002400100000000"
            "002a00001400002048d3e0e1b3d907c6acff145e16090388c77b05c050b634ab1a88bbd0dd1a34b2",
        ),
        (
            "{server}  send handshake record:",
            "complete record",
            "1703030061dc48237b4b879f50d0d4d262ea8b4716eb40ddc1eb957e11126e8a7149c2d012d37a71"
            "15957e64ce30008b9e0323f2c05a9c1c77b4f37849a695ab255060a33fee770ca95cb8486bfd0843"
            "b87024865ca35cc41c4e515c64dcb1369f98635bc7a5",
        ),
        (
            '{server}  derive secret "tls13 c ap traffic":',
            "PRK",
            "e2d32d4ed66dd37897a0e80c84107503ce58bf8aad4cb55a5002d77ecb890ece",
        ),
        (
            '{server}  derive secret "tls13 c ap traffic":',
            "hash",
            "b0aeffc46a2cfe33114e6fd7d51f9f04b1ca3c497dab08934a774a9d9ad7dbf3",
        ),
        (
            '{server}  derive secret "tls13 c ap traffic":',
            "info",
            "002012746c7331332063206170207472616666696320b0aeffc46a2cfe33114e6fd7d51f9f04b1ca"
            "3c497dab08934a774a9d9ad7dbf3",
        ),
        (
            '{server}  derive secret "tls13 c ap traffic":',
            "expanded",
            "2abbf2b8e381d23dbebe1dd2a7d16a8bf484cb4950d23fb7fb7fa8547062d9a1",
        ),
        (
            '{server}  derive secret "tls13 s ap traffic":',
            "PRK",
            "e2d32d4ed66dd37897a0e80c84107503ce58bf8aad4cb55a5002d77ecb890ece",
        ),
        (
            '{server}  derive secret "tls13 s ap traffic":',
            "hash",
            "b0aeffc46a2cfe33114e6fd7d51f9f04b1ca3c497dab08934a774a9d9ad7dbf3",
        ),
        (
            '{server}  derive secret "tls13 s ap traffic":',
            "info",
            "002012746c7331332073206170207472616666696320b0aeffc46a2cfe33114e6fd7d51f9f04b1ca"
            "3c497dab08934a774a9d9ad7dbf3",
        ),
        (
            '{server}  derive secret "tls13 s ap traffic":',
            "expanded",
            "cc21f1bf8feb7dd5fa505bd9c4b468a9984d554a993dc49e6d285598fb672691",
        ),
        (
            '{server}  derive secret "tls13 exp master":',
            "PRK",
            "e2d32d4ed66dd37897a0e80c84107503ce58bf8aad4cb55a5002d77ecb890ece",
        ),
        (
            '{server}  derive secret "tls13 exp master":',
            "hash",
            "b0aeffc46a2cfe33114e6fd7d51f9f04b1ca3c497dab08934a774a9d9ad7dbf3",
        ),
        (
            '{server}  derive secret "tls13 exp master":',
            "info",
            "002010746c73313320657870206d617374657220b0aeffc46a2cfe33114e6fd7d51f9f04b1ca3c49"
            "7dab08934a774a9d9ad7dbf3",
        ),
        (
            '{server}  derive secret "tls13 exp master":',
            "expanded",
            "3fd93d4ffddc98e64b14dd107aedf8ee4add23f4510f58a4592d0b201bee56b4",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "PRK",
            "cc21f1bf8feb7dd5fa505bd9c4b468a9984d554a993dc49e6d285598fb672691",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "key expanded",
            "e857c690a34c5a9129d833619684f95e",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "iv expanded",
            "0685d6b561aab9ef1013faf9",
        ),
        (
            '{client}  derive secret for handshake "tls13 derived":',
            "PRK",
            "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c",
        ),
        (
            '{client}  derive secret for handshake "tls13 derived":',
            "hash",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            '{client}  derive secret for handshake "tls13 derived":',
            "info",
            "00200d746c733133206465726976656420e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
            "4ca495991b7852b855",
        ),
        (
            '{client}  derive secret for handshake "tls13 derived":',
            "expanded",
            "5f1790bbd82c5e7d376ed2e1e52f8e6038c9346db61b43be9a52f77ef3998e80",
        ),
        ("{client}  construct an EndOfEarlyData handshake message:", "EndOfEarlyData", "05000000"),
        ("{client}  send handshake record:", "payload", "05000000"),
        (
            "{client}  send handshake record:",
            "complete record",
            "1703030015aca6fc944841298df99593725f9bf9754429b12f09",
        ),
        (
            "{client}  derive write traffic keys for handshake data:",
            "PRK",
            "2faac08f851d35fea3604fcb4de82dc62c9b164a70974d0462e27f1ab278700f",
        ),
        (
            "{client}  derive write traffic keys for handshake data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{client}  derive write traffic keys for handshake data:",
            "key expanded",
            "b1530806f4adfeac83f1413032bbfa82",
        ),
        (
            "{client}  derive write traffic keys for handshake data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{client}  derive write traffic keys for handshake data:",
            "iv expanded",
            "eb50c16be7654abf99dd06d9",
        ),
        (
            '{client}  calculate finished "tls13 finished":',
            "PRK",
            "2faac08f851d35fea3604fcb4de82dc62c9b164a70974d0462e27f1ab278700f",
        ),
        ('{client}  calculate finished "tls13 finished":', "hash", ""),
        (
            '{client}  calculate finished "tls13 finished":',
            "info",
            "00200e746c7331332066696e697368656400",
        ),
        (
            '{client}  calculate finished "tls13 finished":',
            "expanded",
            "5ace394c26980d581243f627d1150ae27e37fa52364e0a7f20ac686d09cd0e8e",
        ),
        (
            '{client}  calculate finished "tls13 finished":',
            "finished",
            "7230a9c952c25cd6138fc5e6628308c41c5335dd81b9f96bcea50fd32bda416d",
        ),
        (
            "{client}  construct a Finished handshake message:",
            "Finished",
            "140000207230a9c952c25cd6138fc5e6628308c41c5335dd81b9f96bcea50fd32bda416d",
        ),
        (
            "{client}  send handshake record:",
            "payload",
            "140000207230a9c952c25cd6138fc5e6628308c41c5335dd81b9f96bcea50fd32bda416d",
        ),
        (
            "{client}  send handshake record:",
            "complete record",
            "170303003500f8b467d14cf22a4b3f0b6ae0d8e6cc8d08e0db3515ef5c2bdf1922eafbb700099647"
            "16d834fb70c3d2a56c5b1f5f6bdba6c333cf",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "PRK",
            "2abbf2b8e381d23dbebe1dd2a7d16a8bf484cb4950d23fb7fb7fa8547062d9a1",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "key expanded",
            "3cf122f301c6358ca7989553250efd72",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "iv expanded",
            "ab1aec26aa78b8fc1176b9ac",
        ),
        (
            '{client}  derive secret "tls13 res master":',
            "PRK",
            "e2d32d4ed66dd37897a0e80c84107503ce58bf8aad4cb55a5002d77ecb890ece",
        ),
        (
            '{client}  derive secret "tls13 res master":',
            "hash",
            "c3c122e0bd907a4a3ff6112d8fd53dbf89c773d9552e8b6b9d56d361b3a97bf6",
        ),
        (
            '{client}  derive secret "tls13 res master":',
            "info",
            "002010746c73313320726573206d617374657220c3c122e0bd907a4a3ff6112d8fd53dbf89c773d9"
            "552e8b6b9d56d361b3a97bf6",
        ),
        (
            '{client}  derive secret "tls13 res master":',
            "expanded",
            "5e95bdf1f89005ea2e9aa0ba85e728e3c19c5fe0c699e3f5bee59faebd0b5406",
        ),
        (
            "{client}  send application_data record:",
            "payload",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627"
            "28292a2b2c2d2e2f3031",
        ),
        (
            "{client}  send application_data record:",
            "complete record",
            "1703030043b1cebce242aa201be9ae5e1cb2a9aa4b33d4e866af1edb068919237741aa031d7a74d4"
            "91c99b9d4e232b74206bc6fbaa04fe78be44a9b4f54320a17eb76992afac3103",
        ),
        (
            "{server}  send application_data record:",
            "payload",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324252627"
            "28292a2b2c2d2e2f3031",
        ),
        (
            "{server}  send application_data record:",
            "complete record",
            "1703030043275e9f20acff57bc000657d3867df039cccf79047884cf75771746f740b5a83f462a09"
            "54c3581393a203a25a7dd14141ef1a37900cdb62ff62dee1ba39ab2590cbf194",
        ),
        ("{client}  send alert record:", "payload", "0100"),
        (
            "{client}  send alert record:",
            "complete record",
            "17030300130facce3246bdfc6369838d6a82ae6de5d422dc",
        ),
        ("{server}  send alert record:", "payload", "0100"),
        (
            "{server}  send alert record:",
            "complete record",
            "17030300135b18af444e8e1eec7158fb62d8f2577d37ba5d",
        ),
    ],
    5: [
        (
            "{client}  create an ephemeral x25519 key pair:",
            "private key",
            "0ed02f8e8117efc75ca7ac32aa7e34eda64cdc0ddad154a5e85289f959f63204",
        ),
        (
            "{client}  create an ephemeral x25519 key pair:",
            "public key",
            "e8e8e3f3b93a25ed97a14a7dcacb8a272c6288e585c6484d05262fcad062ad1f",
        ),
        (
            "{client}  construct a ClientHello handshake message:",
            "ClientHello",
            "010000b00303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f0000"
            "06130113031302010000810000000b0009000006736572766572ff01000100000a00080006001d00"
            "170018003300260024001d0020e8e8e3f3b93a25ed97a14a7dcacb8a272c6288e585c6484d05262f"
            "cad062ad1f002b0003020304000d0020001e04030503060302030804080508060401050106010201"
            "0402050206020202002d00020101001c00024001",
        ),
        (
            "{client}  send handshake record:",
            "payload",
            "010000b00303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f0000"
            "06130113031302010000810000000b0009000006736572766572ff01000100000a00080006001d00"
            "170018003300260024001d0020e8e8e3f3b93a25ed97a14a7dcacb8a272c6288e585c6484d05262f"
            "cad062ad1f002b0003020304000d0020001e04030503060302030804080508060401050106010201"
            "0402050206020202002d00020101001c00024001",
        ),
        (
            "{client}  send handshake record:",
            "complete record",
            "16030100b4010000b00303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346"
            "677b6f000006130113031302010000810000000b0009000006736572766572ff01000100000a0008"
            "0006001d00170018003300260024001d0020e8e8e3f3b93a25ed97a14a7dcacb8a272c6288e585c6"
            "484d05262fcad062ad1f002b0003020304000d0020001e0403050306030203080408050806040105"
            "01060102010402050206020202002d00020101001c00024001",
        ),
        (
            "{server}  construct a ServerHello handshake message:",
            "ServerHello",
            "020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c0013"
            "01000084003300020017002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823"
            "b096f8aacad365dd0030953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e3"
            "6e8a1f025f7dfa5d6e50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0c"
            "af571fb2b7cff0f934b0002b00020304",
        ),
        (
            "{server}  send handshake record:",
            "payload",
            "020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c0013"
            "01000084003300020017002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823"
            "b096f8aacad365dd0030953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e3"
            "6e8a1f025f7dfa5d6e50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0c"
            "af571fb2b7cff0f934b0002b00020304",
        ),
        (
            "{server}  send handshake record:",
            "complete record",
            "16030300b0020000ac0303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8"
            "a8339c001301000084003300020017002c0074007271dcd04bb88bc3189119398a00000000eefafc"
            "76c146b823b096f8aacad365dd0030953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137ab"
            "cbb87574e36e8a1f025f7dfa5d6e50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9e4c034"
            "2267e8ca0caf571fb2b7cff0f934b0002b00020304",
        ),
        (
            "{client}  create an ephemeral P-256 key pair:",
            "private key",
            "ab5473467e19346ceb0a0414e41da21d4d2445bc3025afe97c4e8dc8d513da39",
        ),
        (
            "{client}  create an ephemeral P-256 key pair:",
            "public key",
            "04a6da7392ec591e17abfd535964b99894d13befb221b3def2ebe3830eac8f0151812677c4d6d223"
            "7e85cf01d6910cfb83954e76ba7352830534159897e8065780",
        ),
        (
            "{client}  construct a ClientHello handshake message:",
            "ClientHello",
            "010001fc0303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f0000"
            "06130113031302010001cd0000000b0009000006736572766572ff01000100000a00080006001d00"
            "1700180033004700450017004104a6da7392ec591e17abfd535964b99894d13befb221b3def2ebe3"
            "830eac8f0151812677c4d6d2237e85cf01d6910cfb83954e76ba7352830534159897e8065780002b"
            "0003020304000d0020001e0403050306030203080408050806040105010601020104020502060202"
            "02002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8aacad365dd00"
            "30953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d6e"
            "50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934"
            "b0002d00020101001c00024001001500af0000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            "{client}  send handshake record:",
            "payload",
            "010001fc0303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f0000"
            "06130113031302010001cd0000000b0009000006736572766572ff01000100000a00080006001d00"
            "1700180033004700450017004104a6da7392ec591e17abfd535964b99894d13befb221b3def2ebe3"
            "830eac8f0151812677c4d6d2237e85cf01d6910cfb83954e76ba7352830534159897e8065780002b"
            "0003020304000d0020001e0403050306030203080408050806040105010601020104020502060202"
            "02002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8aacad365dd00"
            "30953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f025f7dfa5d6e"
            "50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0caf571fb2b7cff0f934"
            "b0002d00020101001c00024001001500af0000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            "{client}  send handshake record:",
            "complete record",
            "1603030200010001fc0303b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346"
            "677b6f000006130113031302010001cd0000000b0009000006736572766572ff01000100000a0008"
            "0006001d001700180033004700450017004104a6da7392ec591e17abfd535964b99894d13befb221"
            "b3def2ebe3830eac8f0151812677c4d6d2237e85cf01d6910cfb83954e76ba7352830534159897e8"
            "065780002b0003020304000d0020001e040305030603020308040805080604010501060102010402"
            "050206020202002c0074007271dcd04bb88bc3189119398a00000000eefafc76c146b823b096f8aa"
            "cad365dd0030953f4edf625636e5f21bb2e23fcc654b1b5b40318d10d137abcbb87574e36e8a1f02"
            "5f7dfa5d6e50781b5eda4aa15b0c8be778257d16aa3030e9e7841dd9e4c0342267e8ca0caf571fb2"
            "b7cff0f934b0002d00020101001c00024001001500af000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            "00000000000000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            '{server}  extract secret "early":',
            "IKM",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            '{server}  extract secret "early":',
            "secret",
            "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
        ),
        (
            "{server}  create an ephemeral P-256 key pair:",
            "private key",
            "8c510601f9765bfb8ed693449a48989859b5cfa879cb9f5443c41c5ff10634ed",
        ),
        (
            "{server}  create an ephemeral P-256 key pair:",
            "public key",
            "04583e054b7a66672ae020ad9d2686fcc85b5ad41a134a0f03ee72b893052bd85b4c8de6776f5b04"
            "ac07d83540eab3e3d9c547bc6528c4317d294686093a6cad7d",
        ),
        (
            "{server}  construct a ServerHello handshake message:",
            "ServerHello",
            "020000770303bb341d847fd789c47c387172dc0c9bf147fccacb5043d86ca4c598d3ff571b980013"
            "0100004f003300450017004104583e054b7a66672ae020ad9d2686fcc85b5ad41a134a0f03ee72b8"
            "93052bd85b4c8de6776f5b04ac07d83540eab3e3d9c547bc6528c4317d294686093a6cad7d002b00"
            "020304",
        ),
        (
            '{server}  derive secret for handshake "tls13 derived":',
            "PRK",
            "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
        ),
        (
            '{server}  derive secret for handshake "tls13 derived":',
            "hash",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            '{server}  derive secret for handshake "tls13 derived":',
            "info",
            "00200d746c733133206465726976656420e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
            "4ca495991b7852b855",
        ),
        (
            '{server}  derive secret for handshake "tls13 derived":',
            "expanded",
            "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba",
        ),
        (
            '{server}  extract secret "handshake":',
            "salt",
            "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba",
        ),
        (
            '{server}  extract secret "handshake":',
            "IKM",
            "c142ce13ca11b5c2233652e63ad3d97844f1621fbfb9de69d547dc8fedeabeb4",
        ),
        (
            '{server}  extract secret "handshake":',
            "secret",
            "ce022e5e6e81e50736d773f2d3adfce8220d049bf510f0dbfac927ef4243b148",
        ),
        (
            '{server}  derive secret "tls13 c hs traffic":',
            "PRK",
            "ce022e5e6e81e50736d773f2d3adfce8220d049bf510f0dbfac927ef4243b148",
        ),
        (
            '{server}  derive secret "tls13 c hs traffic":',
            "hash",
            "8aa8e828ec2f8a884fec95a3139de01c15a3daa7ff5bfc3f4bfcc21b438d7bf8",
        ),
        (
            '{server}  derive secret "tls13 c hs traffic":',
            "info",
            "002012746c73313320632068732074726166666963208aa8e828ec2f8a884fec95a3139de01c15a3"
            "daa7ff5bfc3f4bfcc21b438d7bf8",
        ),
        (
            '{server}  derive secret "tls13 c hs traffic":',
            "expanded",
            "158aa7ab8855073582b41d674b4055cabcc534728f659314861b4e08e2011566",
        ),
        (
            '{server}  derive secret "tls13 s hs traffic":',
            "PRK",
            "ce022e5e6e81e50736d773f2d3adfce8220d049bf510f0dbfac927ef4243b148",
        ),
        (
            '{server}  derive secret "tls13 s hs traffic":',
            "hash",
            "8aa8e828ec2f8a884fec95a3139de01c15a3daa7ff5bfc3f4bfcc21b438d7bf8",
        ),
        (
            '{server}  derive secret "tls13 s hs traffic":',
            "info",
            "002012746c73313320732068732074726166666963208aa8e828ec2f8a884fec95a3139de01c15a3"
            "daa7ff5bfc3f4bfcc21b438d7bf8",
        ),
        (
            '{server}  derive secret "tls13 s hs traffic":',
            "expanded",
            "3403e781e2af7b6508da28574f6e95a1abf162de83a97927c37672a4a0cef8a1",
        ),
        (
            '{server}  derive secret for master "tls13 derived":',
            "PRK",
            "ce022e5e6e81e50736d773f2d3adfce8220d049bf510f0dbfac927ef4243b148",
        ),
        (
            '{server}  derive secret for master "tls13 derived":',
            "hash",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            '{server}  derive secret for master "tls13 derived":',
            "info",
            "00200d746c733133206465726976656420e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
            "4ca495991b7852b855",
        ),
        (
            '{server}  derive secret for master "tls13 derived":',
            "expanded",
            "ad1cbcd3a0dc7053eeb3ed3a47901d16a9fc63a73c64beb567481a7dfb3a2cb3",
        ),
        (
            '{server}  extract secret "master":',
            "salt",
            "ad1cbcd3a0dc7053eeb3ed3a47901d16a9fc63a73c64beb567481a7dfb3a2cb3",
        ),
        (
            '{server}  extract secret "master":',
            "IKM",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            '{server}  extract secret "master":',
            "secret",
            "1131545d0baf79ddce9b87f06945781a57dd18ef378dcd2060f8f9a569027ed8",
        ),
        (
            "{server}  send handshake record:",
            "payload",
            "020000770303bb341d847fd789c47c387172dc0c9bf147fccacb5043d86ca4c598d3ff571b980013"
            "0100004f003300450017004104583e054b7a66672ae020ad9d2686fcc85b5ad41a134a0f03ee72b8"
            "93052bd85b4c8de6776f5b04ac07d83540eab3e3d9c547bc6528c4317d294686093a6cad7d002b00"
            "020304",
        ),
        (
            "{server}  send handshake record:",
            "complete record",
            "160303007b020000770303bb341d847fd789c47c387172dc0c9bf147fccacb5043d86ca4c598d3ff"
            "571b9800130100004f003300450017004104583e054b7a66672ae020ad9d2686fcc85b5ad41a134a"
            "0f03ee72b893052bd85b4c8de6776f5b04ac07d83540eab3e3d9c547bc6528c4317d294686093a6c"
            "ad7d002b00020304",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "PRK",
            "3403e781e2af7b6508da28574f6e95a1abf162de83a97927c37672a4a0cef8a1",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "key expanded",
            "4646bfac1712c426cd78d8a24a8a6f6b",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{server}  derive write traffic keys for handshake data:",
            "iv expanded",
            "c7d395c08d62f297d13768ea",
        ),
        (
            "{server}  construct an EncryptedExtensions handshake message:",
            "EncryptedExtensions",
            "080000180016000a0008000600170018001d001c0002400100000000",
        ),
        (
            "{server}  construct a Certificate handshake message:",
            "Certificate",
            "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b"
            "0500300e310c300a06035504031303727361301e170d3136303733303031323335395a170d323630"
            "3733303031323335395a300e310c300a0603550403130372736130819f300d06092a864886f70d01"
            "0101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826"
            "d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced43120998e187a80ee0cc"
            "b0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0"
            "3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304"
            "023000300b0603551d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5"
            "b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf3"
            "6b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3e"
            "b7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b4"
            "2b4de10000",
        ),
        (
            "{server}  construct a CertificateVerify handshake message:",
            "CertificateVerify",
            "0f0000840804008033ab13d4462707231b5dcae6c8190b63d1dabc74f28c395370da0b07e5b83066"
            "d0246a31acd95df475bfd799a4a70d33ad93d3a317a9b2c0d237a5685b219e774112e391a247607d"
            "1aeff1bbd0a39f382ee1a5fe88ae99ec59228e6497e45d48ce275a6d5ef40d169fb6f9d33b052ed3"
            "dcdd6b5a48baafffbcb290128415bd38",
        ),
        (
            '{server}  calculate finished "tls13 finished":',
            "PRK",
            "3403e781e2af7b6508da28574f6e95a1abf162de83a97927c37672a4a0cef8a1",
        ),
        ('{server}  calculate finished "tls13 finished":', "hash", ""),
        (
            '{server}  calculate finished "tls13 finished":',
            "info",
            "00200e746c7331332066696e697368656400",
        ),
        (
            '{server}  calculate finished "tls13 finished":',
            "expanded",
            "e7f8bb3ea4b6c30c4710b3d09c3313658117e70b097e850368e2510ca5631f74",
        ),
        (
            '{server}  calculate finished "tls13 finished":',
            "finished",
            "8863e6bfb0420a927fa27f34336a70ae426e968e3eb884945b96856dba3976d1",
        ),
        (
            "{server}  construct a Finished handshake message:",
            "Finished",
            "140000208863e6bfb0420a927fa27f34336a70ae426e968e3eb884945b96856dba3976d1",
        ),
        (
            "{server}  send handshake record:",
            "payload",
            "080000180016000a0008000600170018001d001c00024001000000000b0001b9000001b50001b030"
            "8201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a06035504"
            "031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e"
            "310c300a0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902"
            "818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d0"
            "15abbc9a95137ace6c1af19eaa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d44"
            "9a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c474"
            "28a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b0603551d0f0404"
            "030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a72671706"
            "18a54c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156"
            "726096fd335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b"
            "1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b42b4de100000f000084080400"
            "8033ab13d4462707231b5dcae6c8190b63d1dabc74f28c395370da0b07e5b83066d0246a31acd95d"
            "f475bfd799a4a70d33ad93d3a317a9b2c0d237a5685b219e774112e391a247607d1aeff1bbd0a39f"
            "382ee1a5fe88ae99ec59228e6497e45d48ce275a6d5ef40d169fb6f9d33b052ed3dcdd6b5a48baaf"
            "ffbcb290128415bd38140000208863e6bfb0420a927fa27f34336a70ae426e968e3eb884945b9685"
            "6dba3976d1",
        ),
        (
            "{server}  send handshake record:",
            "complete record",
            "170303029699bee20baf5b7fc727bfab6223928a381e6d0cf9c4da653f9d2a7b23f7de11cce842d5"
            "cf75631763450ffb8b0cc1d238e658af7a12adc86243114ab14a1da2fae42621ce483fb6242eabfa"
            "ad52566b02b31d2eddedefeb80e66a9900d5f973b40c4fdf74719ecf1b68d7f9c3b6ceb903ca13dd"
            "1bb8f8187ae33417e1d152522c5822a1a03ad52c838c55953d610222874cce8e1790b229a2aa0b53"
            "c8d377ee720182951dc6181dc5d90bd1f0105ed1e84aa5f75957c6661897079e5ea5007449e3197b"
            "dc7c9beeedddeafdd844afa5c315ecfe65e576afe909812880620ec7048b42d7f5c78d76f299d6d8"
            "2534bdd8f512febc0ed3814aca470cd8000d3e1cb9962b052fbb950df683a52c2ba77ed3713b1229"
            "37a6e5170964e2ab7969dcd980b3db9b458da7603124d6dc005e4d6e04b4d0c4baf3275db827dbba"
            "0a6db09672171fc057b3851d7e026841e2978fbd2346bbefdd0376bb1108fe9acc92189f5650aa5e"
            "85d8e8c7b67ac510dba003d3d7e16350bb66d45013efd44c9b607c0d318c4c7d1a1f5cbc57e20611"
            "804e3787d7b4a4b5f08ed8fd70bdaeade02260b12ab842ef690b4a3ee7911e841b374ecd5ebbbc2a"
            "54d047b600336dd7d0c88b4bc10e58ee6cb656de7247fa20d8e91deb84628608cf80615b62e96c14"
            "91c7ac3755eb6901405d3474fe1ac79d106a0cee56c2577fc88480f96cb6b8c681b7b68b53c14609"
            "3908f350888175bdfb0b1e31ad61e30ba0adfe6d223aa03c0783b5001a57587c328a9afcfcfb978d"
            "1cd4328f7d9d60530e630befd96c0c816ee20b0100768ae2a6df51fc68f172740a79af11398ee3be"
            "1252491fa9c693479e877f94ab7c5f8cad480203e6ab7b87dd71e8a0729113df17f5eee86ce108d1"
            "d72007ec1cd13c85a6c149621e77b7d78d805a30f0be030c315e54",
        ),
        (
            '{server}  derive secret "tls13 c ap traffic":',
            "PRK",
            "1131545d0baf79ddce9b87f06945781a57dd18ef378dcd2060f8f9a569027ed8",
        ),
        (
            '{server}  derive secret "tls13 c ap traffic":',
            "hash",
            "50f63cbf36b0dd049e7a0ba27d6455745ea2aaac54bb167f9950b2b7ce9509da",
        ),
        (
            '{server}  derive secret "tls13 c ap traffic":',
            "info",
            "002012746c733133206320617020747261666669632050f63cbf36b0dd049e7a0ba27d6455745ea2"
            "aaac54bb167f9950b2b7ce9509da",
        ),
        (
            '{server}  derive secret "tls13 c ap traffic":',
            "expanded",
            "75ecf4b972525aa0dcd057c9944d4cd5d82671d8843141d7dc2a4ff15a21dc51",
        ),
        (
            '{server}  derive secret "tls13 s ap traffic":',
            "PRK",
            "1131545d0baf79ddce9b87f06945781a57dd18ef378dcd2060f8f9a569027ed8",
        ),
        (
            '{server}  derive secret "tls13 s ap traffic":',
            "hash",
            "50f63cbf36b0dd049e7a0ba27d6455745ea2aaac54bb167f9950b2b7ce9509da",
        ),
        (
            '{server}  derive secret "tls13 s ap traffic":',
            "info",
            "002012746c733133207320617020747261666669632050f63cbf36b0dd049e7a0ba27d6455745ea2"
            "aaac54bb167f9950b2b7ce9509da",
        ),
        (
            '{server}  derive secret "tls13 s ap traffic":',
            "expanded",
            "5c74f87df04225db0f8209c9de6429e49435fdefa7cad61864874d12f31cfc8d",
        ),
        (
            '{server}  derive secret "tls13 exp master":',
            "PRK",
            "1131545d0baf79ddce9b87f06945781a57dd18ef378dcd2060f8f9a569027ed8",
        ),
        (
            '{server}  derive secret "tls13 exp master":',
            "hash",
            "50f63cbf36b0dd049e7a0ba27d6455745ea2aaac54bb167f9950b2b7ce9509da",
        ),
        (
            '{server}  derive secret "tls13 exp master":',
            "info",
            "002010746c73313320657870206d61737465722050f63cbf36b0dd049e7a0ba27d6455745ea2aaac"
            "54bb167f9950b2b7ce9509da",
        ),
        (
            '{server}  derive secret "tls13 exp master":',
            "expanded",
            "7c06d3ae106a3a374ace4837b3985cac67780a6e2c5c04b58319d584df09d223",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "PRK",
            "5c74f87df04225db0f8209c9de6429e49435fdefa7cad61864874d12f31cfc8d",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "key expanded",
            "f27a5d97bd25550c4823b0f3e5d29388",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{server}  derive write traffic keys for application data:",
            "iv expanded",
            "0dd631f7b71cbbc797c35fe7",
        ),
        (
            "{server}  derive read traffic keys for handshake data:",
            "PRK",
            "158aa7ab8855073582b41d674b4055cabcc534728f659314861b4e08e2011566",
        ),
        (
            "{server}  derive read traffic keys for handshake data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{server}  derive read traffic keys for handshake data:",
            "key expanded",
            "2f1f918663d590e7421149a29d94b0b6",
        ),
        (
            "{server}  derive read traffic keys for handshake data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{server}  derive read traffic keys for handshake data:",
            "iv expanded",
            "414d5485235e1a688793bd74",
        ),
        (
            '{client}  derive secret for handshake "tls13 derived":',
            "PRK",
            "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
        ),
        (
            '{client}  derive secret for handshake "tls13 derived":',
            "hash",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            '{client}  derive secret for handshake "tls13 derived":',
            "info",
            "00200d746c733133206465726976656420e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b93"
            "4ca495991b7852b855",
        ),
        (
            '{client}  derive secret for handshake "tls13 derived":',
            "expanded",
            "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba",
        ),
        (
            '{client}  calculate finished "tls13 finished":',
            "PRK",
            "158aa7ab8855073582b41d674b4055cabcc534728f659314861b4e08e2011566",
        ),
        ('{client}  calculate finished "tls13 finished":', "hash", ""),
        (
            '{client}  calculate finished "tls13 finished":',
            "info",
            "00200e746c7331332066696e697368656400",
        ),
        (
            '{client}  calculate finished "tls13 finished":',
            "expanded",
            "81be4131fbb9b6f4471450846f74fd1e68c5224ba7c2a8677f5c53ad226fdc13",
        ),
        (
            '{client}  calculate finished "tls13 finished":',
            "finished",
            "23f52fdb0709a55bd7f79b991f25484087bcfd4d4380b12326a52a28b2e368e1",
        ),
        (
            "{client}  construct a Finished handshake message:",
            "Finished",
            "1400002023f52fdb0709a55bd7f79b991f25484087bcfd4d4380b12326a52a28b2e368e1",
        ),
        (
            "{client}  send handshake record:",
            "payload",
            "1400002023f52fdb0709a55bd7f79b991f25484087bcfd4d4380b12326a52a28b2e368e1",
        ),
        (
            "{client}  send handshake record:",
            "complete record",
            "1703030035d74f1923c662fd34137c6f502f3dd2b93d951d1b3bc97e42afe23c31abea92fe91b474"
            "999e85e3b791ce252fe8c3e9f939a4120cb2",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "PRK",
            "75ecf4b972525aa0dcd057c9944d4cd5d82671d8843141d7dc2a4ff15a21dc51",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "key info",
            "001009746c733133206b657900",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "key expanded",
            "a7eb2a0525eb4331d58fcbf9f7ca2e9c",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "iv info",
            "000c08746c73313320697600",
        ),
        (
            "{client}  derive write traffic keys for application data:",
            "iv expanded",
            "86e8be227c1bd2b3e39cb444",
        ),
        (
            '{client}  derive secret "tls13 res master":',
            "PRK",
            "1131545d0baf79ddce9b87f06945781a57dd18ef378dcd2060f8f9a569027ed8",
        ),
        (
            '{client}  derive secret "tls13 res master":',
            "hash",
            "0e8b349158b855fdcd0c11dbbc4e83e43caa6e483c6c65df53151888e50165f4",
        ),
        (
            '{client}  derive secret "tls13 res master":',
            "info",
            "002010746c73313320726573206d6173746572200e8b349158b855fdcd0c11dbbc4e83e43caa6e48"
            "3c6c65df53151888e50165f4",
        ),
        (
            '{client}  derive secret "tls13 res master":',
            "expanded",
            "09170c6d472721566f9cf99b08699daff561ec8fb22d5a32c3f94ce009b69975",
        ),
        ("{client}  send alert record:", "payload", "0100"),
        (
            "{client}  send alert record:",
            "complete record",
            "17030300132ea6cdf749196023e2b3a49491695536426047",
        ),
        ("{server}  send alert record:", "payload", "0100"),
        (
            "{server}  send alert record:",
            "complete record",
            "1703030013519fc5075cb0884349759ff9ef6f011bb4c6f2",
        ),
    ],
}
