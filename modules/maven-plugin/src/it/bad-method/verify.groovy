def log = new File(basedir, 'build.log').text
assert log.contains("Invalid <method>: unknown method 'fancy' (allowed: oneshot, gradual, agp, han)")
assert !new File(basedir, 'target/classes/models').exists()
return true
