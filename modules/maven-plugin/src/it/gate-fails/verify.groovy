def log = new File(basedir, 'build.log').text
assert log.contains('Lacuna quality gate failed')
assert log.contains('<minSparsity>: sparsity 0.5 is below the limit minSparsity = 0.9')
assert log =~ /<maxSizeBytes>: size of lstm_2layer\.onnx \d+ bytes is above the limit maxSizeBytes = 100 bytes/
// compress itself succeeded: the gate judges its outputs.
assert new File(basedir, 'target/classes/models/lstm_2layer.compress.json').isFile()
return true
