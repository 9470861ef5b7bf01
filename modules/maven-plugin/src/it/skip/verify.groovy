def log = new File(basedir, 'build.log').text
assert log.contains('Skipping Lacuna compress (lacuna.skip)')
assert log.contains('Skipping Lacuna check (lacuna.skip)')
assert !new File(basedir, 'target/classes/models').exists()
return true
