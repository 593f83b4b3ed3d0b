console.log('berth');
