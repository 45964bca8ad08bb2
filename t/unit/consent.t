my $t = ($ENV{PH_BUILD} // 'build') . '/unit/test_consent'; exec { $t } $t or die "cannot run test_consent (did make build it?): $!\n";
