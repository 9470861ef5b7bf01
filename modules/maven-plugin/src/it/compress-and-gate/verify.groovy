import groovy.json.JsonSlurper
import java.util.zip.ZipFile

def log = new File(basedir, 'build.log').text
def models = new File(basedir, 'target/classes/models')
assert new File(models, 'lstm_2layer.onnx').isFile()
assert new File(models, 'lstm_2layer.lacuna').isFile()
def report = new JsonSlurper().parse(new File(models, 'lstm_2layer.compress.json'))
assert Math.abs(report.sparsity - 0.6) < 0.01 : "sparsity ${report.sparsity}"
assert report.max_output_diff != null && report.max_output_diff > 0
assert report.outputs*.format == ['onnx', 'lacuna']
// One progress line per stage, then the gate and the report.
assert log.contains('pruning lstm_2layer.onnx one-shot to sparsity 0.6')
assert log.contains('verifying the compressed ONNX in ONNX Runtime against the input model')
assert log.contains('encoding .lacuna (5-bit codebooks, Huffman)')
assert log.contains('Lacuna quality gate passed: sparsity')
assert new File(basedir, 'target/lacuna/lstm_2layer.md').text.contains('## Quality gate: passed')
// The compressed model ships in the jar.
def jar = new ZipFile(new File(basedir, 'target/compress-and-gate-1.0.jar'))
try {
    assert jar.getEntry('models/lstm_2layer.lacuna') != null
    assert jar.getEntry('models/lstm_2layer.onnx') != null
} finally {
    jar.close()
}
// No staging folder left beside the output directory.
assert new File(basedir, 'target/classes').list().findAll { it.startsWith('.') }.isEmpty()
return true
