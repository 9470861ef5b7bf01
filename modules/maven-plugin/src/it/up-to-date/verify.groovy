def log = new File(basedir, 'build.log').text
assert log.count('Lacuna compress done in') == 1
assert log.count('Lacuna compress skipped (up to date) in') == 1
assert log =~ /up to date: lstm_2layer\.compress\.json matches input hash [0-9a-f]{12}, nothing to do/
assert log.count('Lacuna quality gate passed') == 2
// The time the second (up-to-date) build spends in compress, for the report.
def m = log =~ /Lacuna compress skipped \(up to date\) in (\d+) ms/
println "up-to-date compress took ${m[0][1]} ms"
return true
