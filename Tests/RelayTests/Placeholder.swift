import Testing

@Test func placeholderRelayTests() {}
