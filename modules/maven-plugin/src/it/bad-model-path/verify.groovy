def log = new File(basedir, 'build.log').text
assert log =~ /Invalid <model>: file not found: .*missing\.onnx/
assert !new File(basedir, 'target/classes/models').exists() : 'no partial outputs'
assert !log.contains('Lacuna quality gate')
return true
