import Testing

@Test func placeholderDatagramTests() {}
