import Testing

@Test func placeholderCommandLineSupport() {}
